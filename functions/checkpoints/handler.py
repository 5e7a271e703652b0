"""Checkpoint queue (the checkpoint waits' messages) and its DLQ, the checkpoint API, async agents' callbacks
and the admin page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from agent_jobs.api.lazy import LazyResolver
from agent_jobs.domain import checkpoints
from agent_jobs.domain.dead_letters import settle_dead_letter
from agent_jobs.domain.steps import from_dead_letters, message_of
from agent_jobs.observability import invocation, logger, tracer
from agent_jobs.services import services

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver


def _api() -> APIGatewayHttpResolver:
    from agent_jobs.api import admin_page, agent_callbacks
    from agent_jobs.api import checkpoints as checkpoint_routes
    from agent_jobs.api.app import build_resolver

    return build_resolver(checkpoint_routes.router, admin_page.router, agent_callbacks.router)


app = LazyResolver(_api)  # built on the first HTTP request: the queue's invocations never load the routes
STEPS = {
    "checkpoint": checkpoints.raise_checkpoint,
    "checkpoint-expired": checkpoints.expire_from_workflow,
}


def record_handler(record: SQSRecord) -> None:
    message = message_of(record)
    logger.append_keys(job_id=message.job_id)
    if from_dead_letters(record):
        settle_dead_letter(services(), message)
    else:
        STEPS[message.kind](services(), message)


@invocation
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        # a processor per invocation: it holds the batch in progress (the local stack runs invocations in threads)
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        return dict(process_partial_response(event, record_handler, processor, context))
    return app.resolve(event, context)
