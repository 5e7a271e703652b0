"""Queue records → step messages: parsing, dead-letter detection, whether this is the last try, and the
log context of one record."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from agent_jobs.catalog import DLQ_SUFFIX, QUEUES
from agent_jobs.integrations.agent_client import new_http_client
from agent_jobs.integrations.per_loop import PerLoop
from agent_jobs.models.messages import StepMessage
from agent_jobs.observability import logger
from agent_jobs.settings import get_settings

if TYPE_CHECKING:  # httpx is imported where it is used: a cold start that does not need it skips it
    import httpx

MAX_RECEIVES = max(spec.max_receive_count for spec in QUEUES)


def message_of(record: SQSRecord) -> StepMessage:
    return StepMessage.model_validate_json(record.body)


def from_dead_letters(record: SQSRecord) -> bool:
    return record.event_source_arn.endswith(DLQ_SUFFIX)


def last_try(record: SQSRecord) -> bool:
    """True on the delivery after which SQS would move the message to its DLQ."""
    return int(record.attributes.approximate_receive_count or 1) >= MAX_RECEIVES


@contextmanager
def step_of(record: SQSRecord) -> Iterator[StepMessage]:
    """The record's message, with its job id on every log line written while it is processed, and its
    failure logged at ERROR with that id (Powertools' batch processor only says so at DEBUG).

    The job id is a *task-local* key (Powertools' ``thread_safe_append_keys``: a ``ContextVar``), so the
    concurrent records of an ``AsyncBatchProcessor`` batch each log their own id and none of them leaks
    into a later invocation. (``append_keys`` is process-global; in Powertools 3.37 ``append_context_keys``
    is a wrapper around it, not task-local either.)
    """
    try:
        message = message_of(record)
    except ValueError:
        logger.exception("unreadable queue message", extra={"message_id": record.message_id})
        raise
    logger.thread_safe_append_keys(job_id=message.job_id)
    try:
        yield message
    except Exception:
        logger.exception(
            "queue message failed",
            extra={
                "message_id": record.message_id,
                "kind": message.kind,
                "attempt": message.attempt,
                "receive_count": record.attributes.approximate_receive_count,
                "dead_letter": from_dead_letters(record),
            },
        )
        raise
    finally:
        logger.thread_safe_remove_keys(["job_id"])


_http_clients: PerLoop[httpx.AsyncClient] = PerLoop(lambda: new_http_client(get_settings()))


def http_client() -> httpx.AsyncClient:
    """The pooled agent client of the running event loop."""
    return _http_clients()
