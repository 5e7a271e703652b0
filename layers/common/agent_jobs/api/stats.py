"""GET /api/admin/stats: counts by status, job types and agents over a recent window, jobs per hour and answer
latency percentiles for the console's charts, checkpoint backlog, queue depths (admins only). What each figure
reads, and its bounds: ``domain/stats.py``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from agent_jobs.api.app import principal, route
from agent_jobs.api.responses import ok
from agent_jobs.domain.stats import DEFAULT_CHART_HOURS, MAX_CHART_HOURS, stats
from agent_jobs.models.envelopes import StatsEnvelope
from agent_jobs.services import services

router = Router()

Hours = Annotated[
    int,
    Query(
        ge=1, le=MAX_CHART_HOURS, description=f"hours of jobsPerHour, 1 to {MAX_CHART_HOURS} ({DEFAULT_CHART_HOURS})"
    ),
]


@route(
    router,
    "GET",
    "/api/admin/stats",
    ok=(200, StatsEnvelope),
    summary="Platform statistics",
    tags=["admin: operations"],
)
def platform_stats(hours: Hours = DEFAULT_CHART_HOURS) -> Response[dict[str, Any]]:
    principal(router).require_admin()
    return ok(stats=stats(services(), datetime.now(UTC), hours))
