"""The events function's loop over a batch of stream records: decide each record's events
(``event_stream.events_of``), publish them, hand them to the subscribers — in stream order.

It stops at the first record that fails and reports it as the batch's failure (``ReportBatchItemFailures``):
Lambda then retries from that record, so no record's events overtake an earlier record's, per job or at all.
A retry may repeat the events of records already published; their ids are the same, and every consumer
drops a repeat.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent_jobs.domain.event_stream import events_of
from agent_jobs.models.job_events import Event
from agent_jobs.observability import logger

Publish = Callable[[list[Event]], None]


def table_of(source_arn: str) -> str:
    """``arn:aws:dynamodb:…:table/<name>/stream/<label>`` → the table's name."""
    return source_arn.split(":table/", 1)[-1].split("/", 1)[0]


def relay(records: list[dict[str, Any]], tables: dict[str, str], sinks: tuple[Publish, ...]) -> dict[str, Any]:
    """``tables`` maps a table's name to its Settings field; each sink gets every record's events in turn.
    Returns Lambda's partial batch response."""
    for record in records:
        change = record.get("dynamodb") or {}
        try:
            events = events_of(
                change.get("OldImage"), change.get("NewImage"), tables[table_of(record["eventSourceARN"])]
            )
            for sink in sinks if events else ():
                sink(events)
        except Exception:
            logger.exception("stream record failed", sequence_number=change.get("SequenceNumber"))
            return {"batchItemFailures": [{"itemIdentifier": change.get("SequenceNumber", "")}]}
    return {"batchItemFailures": []}
