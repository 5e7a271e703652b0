"""The audit trail for admins: registry and worker changes, dead-letter replays, newest first."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from agent_jobs.api.app import principal, route
from agent_jobs.api.params import Limit, NextToken
from agent_jobs.api.responses import ok
from agent_jobs.domain import audit
from agent_jobs.models.registry import AuditEnvelope

router = Router()


@route(
    router,
    "GET",
    "/api/admin/audit",
    ok=(200, AuditEnvelope),
    summary="Who changed the registry or the worker, when, and what (newest first)",
    tags=["admin: operations"],
)
def audit_trail(limit: Limit = 50, next_token: NextToken = None) -> Response[dict[str, Any]]:
    page = audit.trail(principal(router), limit=limit, token=next_token)
    return ok(entries=[entry.to_api() for entry in page.items], nextToken=page.next_token)
