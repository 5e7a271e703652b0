"""Execute queues (and their DLQs) → agents. A batch runs concurrently; failures are reported per message.

A message whose agent or user is at capacity waits: it is sent again, delayed, and the original is done
(``domain/concurrency.py``). The invocation's user slots are given back when the batch is over."""

import asyncio
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from agent_jobs.domain.concurrency import UserGate, user_gate, wait_again
from agent_jobs.domain.dead_letters import settle_dead_letter
from agent_jobs.domain.execution import call_deadline, execute
from agent_jobs.domain.steps import from_dead_letters, http_client, last_try, step_of
from agent_jobs.observability import invocation, tracer
from agent_jobs.services import services


async def record_handler(record: SQSRecord, lambda_context: LambdaContext, gate: UserGate | None = None) -> None:
    with step_of(record) as message:
        if from_dead_letters(record):
            await asyncio.to_thread(settle_dead_letter, services(), message)
            return
        deadline = call_deadline(lambda_context.get_remaining_time_in_millis())
        waits = await execute(
            services(), http_client(), message, deadline=deadline, last_try=last_try(record), gate=gate
        )
        if waits is not None:
            await asyncio.to_thread(wait_again, services().settings, record, waits)


@invocation(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # a processor per invocation: it holds the batch in progress (the local stack runs invocations in threads)
    processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    gate = user_gate(services().settings, context.aws_request_id, context.get_remaining_time_in_millis())

    async def handle(record: SQSRecord) -> None:
        await record_handler(record, context, gate)

    try:
        return dict(async_process_partial_response(event, handle, processor, context))
    finally:
        gate.close()
