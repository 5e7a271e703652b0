"""Webhook subscriptions API, and the webhooks queue's consumer: one delivery try per message (and its DLQ)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from agent_jobs.api.lazy import LazyResolver
from agent_jobs.domain.steps import from_dead_letters
from agent_jobs.domain.webhook_delivery import DeliveryWorker, parse_message
from agent_jobs.observability import invocation, logger, tracer
from agent_jobs.repositories.webhooks import DeliveryRepository, WebhookRepository
from agent_jobs.services import services

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver


def _api() -> APIGatewayHttpResolver:
    from agent_jobs.api import webhooks
    from agent_jobs.api.app import build_resolver

    return build_resolver(webhooks.router)


app = LazyResolver(_api)  # built on the first HTTP request: the queue's invocations never load the routes


def record_handler(record: SQSRecord) -> None:
    worker = DeliveryWorker(WebhookRepository(), DeliveryRepository(), services().settings)
    message = parse_message(record.body)
    with logger.append_context_keys(webhook_id=message.webhook_id, delivery_id=message.delivery_id):
        try:
            if from_dead_letters(record):
                worker.dead_lettered(message)
            else:
                worker.handle(message)
        except Exception:
            logger.exception("webhook delivery record failed")
            raise


@invocation(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        return dict(process_partial_response(event, record_handler, processor, context))
    return app.resolve(event, context)
