"""Queue records → step messages: parsing, dead-letter detection, and whether this is the last try."""

from __future__ import annotations

import httpx
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from agent_jobs.catalog import DLQ_SUFFIX, QUEUES
from agent_jobs.integrations.agent_client import new_http_client
from agent_jobs.integrations.per_loop import PerLoop
from agent_jobs.models.messages import StepMessage
from agent_jobs.settings import get_settings

MAX_RECEIVES = max(spec.max_receive_count for spec in QUEUES)


def message_of(record: SQSRecord) -> StepMessage:
    return StepMessage.model_validate_json(record.body)


def from_dead_letters(record: SQSRecord) -> bool:
    return record.event_source_arn.endswith(DLQ_SUFFIX)


def last_try(record: SQSRecord) -> bool:
    """True on the delivery after which SQS would move the message to its DLQ."""
    return int(record.attributes.approximate_receive_count or 1) >= MAX_RECEIVES


_http_clients: PerLoop[httpx.AsyncClient] = PerLoop(lambda: new_http_client(get_settings()))


def http_client() -> httpx.AsyncClient:
    """The pooled agent client of the running event loop."""
    return _http_clients()
