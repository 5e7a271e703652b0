"""Operations: the EventBridge schedule (sweeper, then gauges) and the admin worker/stats routes.

One handler, two triggers: an event from the schedule (``"source": "aws.events"`` or ``detail-type``
"Scheduled Event") runs the scheduled work; anything else is an HTTP API request for the resolver.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from agent_jobs.api.lazy import LazyResolver
from agent_jobs.domain.gauges import emit_gauges, queue_depths
from agent_jobs.domain.sweeper import sweep
from agent_jobs.observability import invocation, logger, tracer
from agent_jobs.services import services

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver


def _api() -> APIGatewayHttpResolver:
    from agent_jobs.api import audit, dead_letters, stats, worker
    from agent_jobs.api.app import build_resolver

    return build_resolver(worker.router, stats.router, dead_letters.router, audit.router)


app = LazyResolver(_api)  # built on the first HTTP request: the schedule's runs never load the routes


def is_scheduled(event: dict[str, Any]) -> bool:
    return event.get("source") == "aws.events" or event.get("detail-type") == "Scheduled Event"


def scheduled_run() -> dict[str, Any]:
    """The sweeper first (so the gauges see its effect), then every gauge. One failing part does not stop
    the other; the next run is a minute away."""
    current = services()
    now = datetime.now(UTC)
    depths = queue_depths(current.settings)
    summary: dict[str, Any] = {}
    try:
        summary["sweeper"] = sweep(current, now, depths).to_log()
    except Exception:
        logger.exception("sweeper failed")
    try:
        summary["gauges"] = emit_gauges(current.settings, now, depths)
    except Exception:
        logger.exception("gauges failed")
    logger.info("scheduled run", extra=summary)
    return summary


@invocation(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_scheduled(event):
        return scheduled_run()
    return app.resolve(event, context)
