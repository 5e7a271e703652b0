"""The API operations the CLI calls: one place that names each operation's method, path and the fields it sends.

Commands call operations by name, never by URL. Every entry is checked against the API's OpenAPI document
(``GET /api/openapi.json``) by tests/unit/test_cli_operations.py and tests/e2e/test_cli.py: the method and path
must be the document's, and every query parameter and body field named here must be one the document declares —
so a route or field the server drops or renames breaks a test, not a user's script.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # the document's path template, e.g. /api/jobs/{id}
    query: tuple[str, ...] = ()  # query parameters the CLI may send
    body: tuple[str, ...] = ()  # top-level JSON body fields the CLI may send

    def url_path(self, **params: str) -> str:
        """The concrete path: every ``{name}`` filled with its value, percent-encoded (an id never adds a segment)."""
        path = self.path
        for name, value in params.items():
            placeholder = "{" + name + "}"
            if placeholder not in path:
                raise KeyError(f"{self.path} has no parameter {name}")
            path = path.replace(placeholder, quote(value, safe=""))
        if "{" in path:
            raise KeyError(f"{self.path}: a path parameter is missing")
        return path


CREATE_FIELDS = (
    "name",
    "description",
    "acceptanceCriteria",
    "jobType",
    "inputData",
    "priority",
    "agentId",
    "tags",
    "templateId",
    "variables",
)
LIST_FILTERS = ("status", "jobType", "tag", "agentId", "limit", "nextToken")

OPERATIONS: dict[str, Operation] = {
    "pageConfig": Operation("GET", "/admin/{file}"),  # /admin/config.json: the Cognito endpoint and app client
    "createJob": Operation("POST", "/api/jobs", body=CREATE_FIELDS),
    "listJobs": Operation("GET", "/api/jobs", query=LIST_FILTERS),
    "getJob": Operation("GET", "/api/jobs/{id}"),
    "cancelJob": Operation("POST", "/api/jobs/{id}/cancel", body=("reason",)),
    "approveCheckpoint": Operation("POST", "/api/admin/agent-checkpoints/{id}", body=("comment",)),
    "rejectCheckpoint": Operation("DELETE", "/api/admin/agent-checkpoints/{id}", body=("reason",)),
    "requestChanges": Operation("POST", "/api/admin/agent-checkpoints/{id}/request-changes", body=("feedback",)),
}


def _resolve(document: dict[str, Any], schema: Any) -> dict[str, Any]:
    while isinstance(schema, dict) and "$ref" in schema:
        target: Any = document
        for part in str(schema["$ref"]).removeprefix("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        schema = target
    return schema if isinstance(schema, dict) else {}


def _body_properties(document: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    content = (operation.get("requestBody") or {}).get("content") or {}
    schema = _resolve(document, (content.get("application/json") or {}).get("schema"))
    properties = set(schema.get("properties") or {})
    for variant in schema.get("anyOf") or schema.get("oneOf") or []:  # an optional body: {"anyOf": [model, null]}
        properties |= set(_resolve(document, variant).get("properties") or {})
    return properties


def mismatches(document: dict[str, Any]) -> list[str]:
    """What the CLI would send that the OpenAPI document does not declare (empty: the CLI fits the API)."""
    problems: list[str] = []
    paths = document.get("paths") or {}
    for name, operation in OPERATIONS.items():
        declared = (paths.get(operation.path) or {}).get(operation.method.lower())
        if not isinstance(declared, dict):
            problems.append(f"{name}: {operation.method} {operation.path} is not in the document")
            continue
        parameters = {p.get("name") for p in declared.get("parameters") or [] if p.get("in") == "query"}
        problems += [f"{name}: no query parameter {q}" for q in operation.query if q not in parameters]
        properties = _body_properties(document, declared)
        problems += [f"{name}: no body field {field}" for field in operation.body if field not in properties]
    return problems
