"""Sends an execute message again, later: how a message for a busy agent or user waits without failing."""

from __future__ import annotations

from agent_jobs.integrations.aws import client
from agent_jobs.integrations.dispatch import with_backoff

WAITS_ATTRIBUTE = "concurrency-waits"  # how often the message already waited (its backoff grows with it)
MAX_DELAY_SECONDS = 900  # SQS's limit for DelaySeconds


def send_again(queue_url: str, body: str, *, delay_seconds: int, waits: int) -> None:
    """The same body on the same queue, invisible for ``delay_seconds``, carrying its wait count."""
    attributes = {WAITS_ATTRIBUTE: {"DataType": "Number", "StringValue": str(waits)}}
    delay = max(0, min(delay_seconds, MAX_DELAY_SECONDS))
    with_backoff(
        lambda: client("sqs").send_message(
            QueueUrl=queue_url, MessageBody=body, DelaySeconds=delay, MessageAttributes=attributes
        ),
        "re-sending a waiting execute message",
    )
