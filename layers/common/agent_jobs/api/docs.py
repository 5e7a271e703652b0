"""The one OpenAPI document of the whole API, and its Swagger UI (``/api/openapi.json``, ``/api/docs``).

Each function's resolver holds only its own routes (a queue consumer must not load every route's models at
a cold start), so the document is built here, lazily on the first request for it, from the routers of every
function. Then: 400 where Powertools writes 422 (the API answers 400), the bearer scheme, tags per area.
"""

from __future__ import annotations

import importlib
import json
from functools import cache
from importlib.resources import files
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Tag
from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

from agent_jobs.api.app import BEARER, JSON, responses
from agent_jobs.api.idempotency import HEADER, IDEMPOTENT_ROUTE_KEYS, MAX_KEY_LENGTH
from agent_jobs.api.responses import SECURITY_HEADERS

router = Router()
TITLE = "Agent Jobs API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Hand work to AI agents and get back results an LLM judge has checked. Every answer is JSON: "
    '`{"success": true, ...}` or `{"success": false, "error": {"code", "message", "field"}}`. '
    "Sign in with a Cognito IdToken (Authorize: the bearer token only). `/api/agent-jobs…` answers exactly "
    "like `/api/jobs…`. A method a path does not declare answers 405 with the same envelope."
)
# The API modules whose routers make up the API, across every function (catalog.ROUTES says which serves what).
ROUTER_MODULES = (
    "jobs",
    "agents",
    "admin_jobs",
    "checkpoints",
    "validation",
    "worker",
    "stats",
    "admin_page",
    "registry",
    "dead_letters",
    "audit",
    "agent_callbacks",
    "webhooks",
    "batch",
    "templates",
    "bulk",
)
TAGS = [
    Tag(name="jobs", description="A user's own jobs"),
    Tag(name="templates", description="Saved create bodies with {{variable}} placeholders: your own and shared ones"),
    Tag(name="agents", description="The agents a user can pick"),
    Tag(name="admin: jobs", description="Any job, and the admin overrides"),
    Tag(name="admin: agents", description="The agent registry"),
    Tag(name="admin: checkpoints", description="Human approvals of the job types with checkpoints"),
    Tag(name="admin: validation", description="The LLM judge on demand"),
    Tag(name="admin: operations", description="The worker and the platform's figures"),
    Tag(name="agent callbacks", description="Async agents report progress and results (signed, no token)"),
    Tag(name="webhooks", description="Signed POSTs of your jobs' events, their delivery log and redelivery"),
    Tag(name="docs", description="This document and the admin page (public)"),
]
IDEMPOTENCY_KEY_PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Makes a retry safe (DESIGN.md §15): the same user, path, key and body within 24 h get the first answer "
        "again (header `Idempotent-Replayed: true`); another body with the key is 422 `IDEMPOTENCY_KEY_REUSED`; "
        "while the first request runs, 409."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
}
# Powertools' 422 bodies, which the API never sends (idempotent routes' 422 is the error envelope).
UNUSED_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def _copy_routes(source: Router, into: APIGatewayHttpResolver) -> None:
    """Registers ``source``'s routes on ``into`` as ``include_router`` does, without rebinding the router to the
    documenting resolver (its function's live resolver keeps answering requests, in other threads too)."""
    for key, func in source._routes.items():
        # the key is route()'s arguments in order (Powertools' include_router does the same; mypy cannot see it)
        into.route(*key, middlewares=source._routes_with_middleware.get(key))(func)  # type: ignore[misc]


@cache
def document() -> str:
    """The OpenAPI document (JSON) of every route of every function."""
    app = APIGatewayHttpResolver(enable_validation=True)
    for name in ROUTER_MODULES:
        _copy_routes(importlib.import_module(f"agent_jobs.api.{name}").router, app)
    _copy_routes(router, app)
    schema: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(
            title=TITLE,
            version=VERSION,
            description=DESCRIPTION,
            tags=list(TAGS),
            security_schemes={BEARER: HTTPBearer(bearerFormat="JWT", description="a Cognito IdToken")},
        )
    )
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if f"{method.upper()} {path}" in IDEMPOTENT_ROUTE_KEYS:
                operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY_PARAMETER)
            else:
                operation["responses"].pop("422", None)
    for name in UNUSED_SCHEMAS:
        schema.get("components", {}).get("schemas", {}).pop(name, None)
    return json.dumps(schema, separators=(",", ":"))


@cache
def swagger_page() -> str:
    assets = files("aws_lambda_powertools.event_handler.openapi.swagger_ui")  # shipped with Powertools: no CDN
    script = (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    style = (assets / "swagger-ui.min.css").read_text(encoding="utf-8")
    spec = document().replace("</", "<\\/")  # the spec sits inside a <script>: no early close
    return generate_swagger_html(spec, script, style, "", None, persist_authorization=True)


DOC_ANSWERS = responses("GET", "/api/openapi.json", 200, None)
DOC_ANSWERS[200] = {"description": "The OpenAPI 3 document", "content": {JSON: {"schema": {"type": "object"}}}}
PAGE_ANSWERS = responses("GET", "/api/docs", 200, None)
PAGE_ANSWERS[200] = {
    "description": "The Swagger UI (with ?format=json: the document)",
    "content": {"text/html": {"schema": {"type": "string"}}, JSON: {"schema": {"type": "object"}}},
}


@router.get("/api/openapi.json", summary="This document", tags=["docs"], responses=DOC_ANSWERS)
def openapi_document() -> Response[str]:
    return Response(200, JSON, document(), SECURITY_HEADERS)


@router.get("/api/docs", summary="Swagger UI", tags=["docs"], responses=PAGE_ANSWERS)
def swagger_ui() -> Response[str]:
    if (router.current_event.query_string_parameters or {}).get("format") == "json":
        return openapi_document()
    return Response(200, "text/html", swagger_page(), {"Cache-Control": "no-cache"})
