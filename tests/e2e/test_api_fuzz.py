"""The OpenAPI document is the contract (issue 12): schemathesis, with every check, against the local stack.

The fuzzer gets a stack of its own (it registers agents, stops the worker and changes its concurrency, which
would disturb the other e2e tests' shared stack) and an admin's token, so every route is reachable; its
``ignored_auth`` check sends each request without the token as well. Examples are bounded to keep the run
within a couple of minutes on a loaded 2-core machine.

Where a check's assumption is wrong for this API it is configured, per operation, in ``CONFIG`` below, each
with the reason; nothing is excluded wholesale.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agent_jobs.catalog import ROUTES
from tests.e2e.conftest import ROOT, RunningStack, start_stack, stop_stack

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = int(os.environ.get("AGENT_JOBS_FUZZ_EXAMPLES", "8"))
FUZZ_TIMEOUT = 540.0

# `positive_data_acceptance` says a request its schema allows must not get a 4xx other than 401/403/404/409.
# Some members are valid or not by data the schema cannot hold, and answer 400 by design:
#   - nextToken: an opaque cursor this API issued (a made-up one is 400, DESIGN.md §16);
#   - agentId in a body: must name an ACTIVE agent (a reference, not a format);
#   - endpointUrl, a webhook's url, an agent card's cardUrl: must resolve to a public address at the time of
#     the request (the SSRF guard, DESIGN.md §5) — and a card URL must serve a card.
# And on the routes that take an Idempotency-Key, the fuzzer sends one key with many bodies: 422
# IDEMPOTENCY_KEY_REUSED is the documented, correct answer (DESIGN.md §15).
CURSOR_ROUTES = [
    "GET /api/jobs",
    "GET /api/agent-jobs",
    "GET /api/jobs/{id}/logs",
    "GET /api/agent-jobs/{id}/logs",
    "GET /api/admin/jobs",
    "GET /api/admin/agent-checkpoints",
    "GET /api/admin/audit",
    "GET /api/templates",
]
AGENT_REFERENCE_ROUTES = [
    "POST /api/jobs",
    "POST /api/agent-jobs",
    "POST /api/jobs/{id}/assign",
    "POST /api/agent-jobs/{id}/assign",
    "POST /api/admin/jobs/{id}/reassign",
]
URL_ROUTES = [
    "POST /api/admin/agents",
    "PUT /api/admin/agents/{id}",
    "POST /api/admin/agents/import",
    "POST /api/webhooks",
    "PATCH /api/webhooks/{id}",
]
ACCEPTED = ["2xx", "401", "403", "404", "409"]


def expected_statuses() -> dict[str, list[str]]:
    """Per operation, what `positive_data_acceptance` accepts (only where it differs from the default)."""
    expected: dict[str, list[str]] = {}
    for name in [*CURSOR_ROUTES, *AGENT_REFERENCE_ROUTES, *URL_ROUTES]:
        expected[name] = [*ACCEPTED, "400"]
    for route in ROUTES:
        if route.idempotent:
            name = f"{route.method} {route.path}"
            expected[name] = [*expected.get(name, ACCEPTED), "422"]
    return expected


def config_text() -> str:
    by_statuses: dict[tuple[str, ...], list[str]] = {}
    for name, statuses in sorted(expected_statuses().items()):
        by_statuses.setdefault(tuple(statuses), []).append(name)
    blocks = ['[generation]\nmode = "all"\n']
    for statuses, names in by_statuses.items():  # one block per operation: no two rules for the same one
        quoted = ", ".join(f'"{name}"' for name in names)
        listed = ", ".join(f'"{status}"' for status in statuses)
        blocks.append(
            f"[[operations]]\ninclude-name = [{quoted}]\n"
            f"checks.positive_data_acceptance.expected-statuses = [{listed}]\n"
        )
    return "\n".join(blocks)


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("fuzz-stack"), "--ports-auto", "--schedule-seconds", "5")
    yield running
    assert stop_stack(running) == 0, running.log()[-4000:]


def test_undeclared_methods_answer_405_in_the_envelope(fuzz_stack: RunningStack) -> None:
    """http.server answered TRACE with an HTML 501; a method the route table does not declare for a path is
    405 with ``Allow``, and an unknown path stays 404, both in the envelope (API Gateway itself answers 404
    ``{"message": "Not Found"}`` for any method without a route)."""
    with httpx.Client(base_url=fuzz_stack.api_url, timeout=30.0, trust_env=False) as client:
        for method, path, allowed in [
            ("TRACE", "/api/jobs", "GET, POST"),
            ("PATCH", "/api/jobs/abc", "GET"),
            ("DELETE", "/api/admin/stats", "GET"),
            ("CONNECT", "/api/admin/agent-worker", "DELETE, GET, POST, PUT"),
            ("PUT", "/api/openapi.json", "GET"),
        ]:
            reply = client.request(method, path)
            assert reply.status_code == 405, (method, path, reply.text)
            assert reply.headers["allow"] == allowed
            assert reply.headers["content-type"] == "application/json"
            assert reply.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
        missing = client.request("TRACE", "/api/nothing-here")
        assert missing.status_code == 404 and missing.json()["success"] is False


def test_schemathesis_all_checks_pass(fuzz_stack: RunningStack, tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(config_text())
    token = fuzz_stack.state["tokens"]["admin"]
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(config),
        "run",
        f"{fuzz_stack.api_url}/api/openapi.json",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        "1",  # moto's server is not thread-safe: an agent update racing a list of agents made it answer 500
        "--seed",
        os.environ.get("AGENT_JOBS_FUZZ_SEED", "1204"),
        "--header",
        f"Authorization: Bearer {token}",
        "--request-timeout",
        "30",
        "--no-color",
        "--output-truncate",
        "false",
    ]
    done = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=FUZZ_TIMEOUT, check=False, env={**os.environ}
    )
    report = done.stdout[-20000:] + done.stderr[-4000:]
    assert done.returncode == 0, (
        f"schemathesis found failures:\n{report}\n--- stack log ---\n{fuzz_stack.log()[-3000:]}"
    )
    selected = report.split("Selected: ", 1)[1].split()[0]  # every operation of the document, none filtered out
    assert selected.split("/")[0] == selected.split("/")[1], selected


def test_the_fuzzer_is_installed() -> None:
    """pyproject.toml pins it in the dev extra; a missing `st` would make the run above fail obscurely."""
    st = Path(sys.executable).with_name("st")
    assert st.exists(), f"{st} is missing: pip install -e '.[dev]'"
    assert ROOT.joinpath("pyproject.toml").read_text().count("schemathesis==") == 1
