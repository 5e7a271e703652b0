"""Validate queue (judge, auto-assign) and its DLQ, plus the admin re-check and validation routes."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from agent_jobs.api.lazy import LazyResolver
from agent_jobs.domain.assignment import auto_assign
from agent_jobs.domain.dead_letters import settle_dead_letter
from agent_jobs.domain.steps import from_dead_letters, last_try, step_of
from agent_jobs.domain.validation import validate
from agent_jobs.integrations.judge_factory import judge
from agent_jobs.observability import invocation, tracer
from agent_jobs.services import services

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver


def _api() -> APIGatewayHttpResolver:
    from agent_jobs.api import validation
    from agent_jobs.api.app import build_resolver

    return build_resolver(validation.router)


app = LazyResolver(_api)  # built on the first HTTP request: the queue's invocations never load the routes


async def record_handler(record: SQSRecord) -> None:
    with step_of(record) as message:
        if from_dead_letters(record):
            await asyncio.to_thread(settle_dead_letter, services(), message)
        elif message.kind == "assign":
            await auto_assign(services(), judge, message, last_try=last_try(record))
        else:
            await validate(services(), judge, message, last_try=last_try(record))


@invocation(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        # a processor per invocation: it holds the batch in progress (the local stack runs invocations in threads)
        processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        return dict(async_process_partial_response(event, record_handler, processor, context))
    return app.resolve(event, context)
