"""GET /api/admin/stats: counts by status, job types and agents over a recent window, checkpoint backlog,
queue depths (admins only). What each figure reads, and its bounds: ``domain/stats.py``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from agent_jobs.api.app import principal, route
from agent_jobs.api.responses import ok
from agent_jobs.domain.stats import stats
from agent_jobs.models.envelopes import StatsEnvelope
from agent_jobs.services import services

router = Router()


@route(
    router,
    "GET",
    "/api/admin/stats",
    ok=(200, StatsEnvelope),
    summary="Platform statistics",
    tags=["admin: operations"],
)
def platform_stats() -> Response[dict[str, Any]]:
    principal(router).require_admin()
    return ok(stats=stats(services(), datetime.now(UTC)))
