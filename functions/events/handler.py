"""The jobs and checkpoints tables' streams: each change's job events (DESIGN.md §15) onto the EventBridge bus,
then to the subscribers (webhooks, real time)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from agent_jobs.catalog import STREAMS
from agent_jobs.domain import subscribers
from agent_jobs.domain.event_relay import relay
from agent_jobs.integrations.event_bus import publish
from agent_jobs.models.job_events import Event
from agent_jobs.observability import invocation
from agent_jobs.settings import get_settings


def _deliver(events: list[Event]) -> None:
    subscribers.deliver(events)  # looked up per call: the subscribers module owns what delivering means


@invocation(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings()
    tables = {getattr(settings, spec.table): spec.table for spec in STREAMS}
    return relay(event.get("Records", []), tables, (publish, _deliver))
