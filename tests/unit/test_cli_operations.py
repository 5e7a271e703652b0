"""The CLI speaks the API's OpenAPI document: every operation it calls (method, path, query parameters, body
fields) is one the document declares, and the CLI is a client — it imports none of the server's code."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from agent_jobs_cli.operations import OPERATIONS, Operation, mismatches

CLI_PACKAGE = Path(__file__).resolve().parents[2] / "cli" / "agent_jobs_cli"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    from agent_jobs.api.docs import document as build

    built: dict[str, Any] = json.loads(build())
    return built


def test_every_cli_operation_is_in_the_document(document: dict[str, Any]) -> None:
    assert mismatches(document) == []


def test_a_path_the_document_lacks_is_reported(document: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(OPERATIONS, "getJob", Operation("GET", "/api/job/{id}"))
    monkeypatch.setitem(OPERATIONS, "cancelJob", Operation("PUT", "/api/jobs/{id}/cancel"))
    monkeypatch.setitem(OPERATIONS, "listJobs", Operation("GET", "/api/jobs", query=("pageNumber",)))
    monkeypatch.setitem(OPERATIONS, "requestChanges", Operation("POST", "/api/jobs", body=("colour",)))
    assert mismatches(document) == [
        "listJobs: no query parameter pageNumber",
        "getJob: GET /api/job/{id} is not in the document",
        "cancelJob: PUT /api/jobs/{id}/cancel is not in the document",
        "requestChanges: no body field colour",
    ]


def test_path_parameters_are_encoded_into_one_segment() -> None:
    assert OPERATIONS["getJob"].url_path(id="a/../b?c") == "/api/jobs/a%2F..%2Fb%3Fc"
    with pytest.raises(KeyError):
        OPERATIONS["getJob"].url_path()
    with pytest.raises(KeyError):
        OPERATIONS["getJob"].url_path(id="x", other="y")


def test_the_cli_imports_nothing_of_the_server() -> None:
    imported: set[str] = set()
    for source in CLI_PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
    assert "agent_jobs_cli" in imported
    assert not imported & {"agent_jobs", "local", "functions", "infra", "boto3", "pydantic", "moto"}
