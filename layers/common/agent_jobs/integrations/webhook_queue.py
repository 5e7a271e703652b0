"""The webhooks queue: one message per delivery try, delayed with SQS's ``DelaySeconds`` (at most 15 minutes;
a longer backoff rides in the message's ``notBefore`` and is re-delayed when it comes early)."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from agent_jobs.integrations.aws import client
from agent_jobs.integrations.dispatch import with_backoff
from agent_jobs.models.webhooks import DeliveryMessage
from agent_jobs.settings import get_settings

MAX_DELAY_SECONDS = 900  # SQS's limit for DelaySeconds
SQS_BATCH = 10


class QueueSendFailed(RuntimeError):
    """Some messages could not be queued (after retries)."""


def enqueue(messages: Sequence[DeliveryMessage], *, delay_seconds: float = 0) -> None:
    """Queues the messages in order (batches of ten), each delayed by ``delay_seconds`` (capped at 15 min)."""
    delay = max(0, min(MAX_DELAY_SECONDS, round(delay_seconds)))
    url = get_settings().webhooks_queue_url
    sqs = client("sqs")
    for start in range(0, len(messages), SQS_BATCH):
        batch = messages[start : start + SQS_BATCH]
        entries = [
            {
                "Id": str(index),
                "MessageBody": json.dumps(message.to_api(), separators=(",", ":")),
                "DelaySeconds": delay,
            }
            for index, message in enumerate(batch)
        ]

        with_backoff(functools.partial(_send_all, sqs, url, entries), "SendMessageBatch")


def _send_all(sqs: Any, url: str, entries: list[dict[str, Any]]) -> None:
    """Sends ``entries``; what SQS refused is sent again (only that: the rest must not arrive twice)."""
    pending = entries
    for _ in range(3):
        failed = {item["Id"] for item in sqs.send_message_batch(QueueUrl=url, Entries=pending).get("Failed", [])}
        pending = [entry for entry in pending if entry["Id"] in failed]
        if not pending:
            return
    raise QueueSendFailed(f"{len(pending)} webhook deliveries could not be queued")
