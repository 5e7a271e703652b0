"""Execute queues (and their DLQs) → agents. A batch runs concurrently; failures are reported per message."""

import asyncio
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from agent_jobs.domain.dead_letters import settle_dead_letter
from agent_jobs.domain.execution import call_deadline, execute
from agent_jobs.domain.steps import from_dead_letters, http_client, last_try, step_of
from agent_jobs.observability import logger, tracer
from agent_jobs.services import services


async def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> None:
    with step_of(record) as message:
        if from_dead_letters(record):
            await asyncio.to_thread(settle_dead_letter, services(), message)
        else:
            deadline = call_deadline(lambda_context.get_remaining_time_in_millis())
            await execute(services(), http_client(), message, deadline=deadline, last_try=last_try(record))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # a processor per invocation: it holds the batch in progress (the local stack runs invocations in threads)
    processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(async_process_partial_response(event, record_handler, processor, context))
