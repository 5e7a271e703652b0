"""A job's history as the job item keeps it (DESIGN.md §13): one compact entry per log, appended by the same
conditional UpdateItem that moves the status — one write per transition, no transaction.

An entry is a JSON array ``[id, kind, message, agentId, actor, detailed]``; the id carries the attempt and the
time (``job_logs.new_log_id``). What does not fit an entry — request or response payloads, an answer's latency,
a message longer than :data:`MESSAGE_CHARS` — is the log's *detail*: the whole log as a ``job_logs`` item
(``history_detail`` set), written as a plain put before the update. A detail whose update lost its race names
no entry and is never shown (:func:`merge_newest_first`); ``job_logs`` items written on their own
(``JobRepository.add_log``) have no entry and are always shown.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from pynamodb.expressions.update import Action

from agent_jobs.models.jobs import Job, JobLog, LogKind
from agent_jobs.repositories.job_logs import log_entity, log_record, log_time_and_attempt
from agent_jobs.repositories.records import stored_size
from agent_jobs.repositories.tables import JobLogRecord, JobRecord

MESSAGE_CHARS = 200  # an entry's message; a longer one is kept whole in the log's detail
INLINE_WRITES = 60  # a job written more often than this keeps further logs as job_logs items: the item stays small


def has_detail(log: JobLog) -> bool:
    return (
        log.request_payload is not None
        or log.response_payload is not None
        or log.latency_ms is not None
        or len(log.message or "") > MESSAGE_CHARS
    )


def encode(log: JobLog) -> str:
    message = (log.message or "")[:MESSAGE_CHARS]
    entry = [log.id, log.status.value, message, log.agent_id, log.actor, 1 if has_detail(log) else 0]
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


def decode(job_id: str, text: str) -> JobLog:
    log_id, kind, message, agent_id, actor, _detailed = json.loads(text)
    created_at, attempt = log_time_and_attempt(log_id)
    return JobLog(
        id=log_id,
        job_id=job_id,
        status=LogKind(kind),
        message=message or None,
        agent_id=agent_id,
        actor=actor,
        attempt=attempt,
        created_at=created_at,
    )


def ids(history: Iterable[str] | None) -> set[str]:
    """The log ids the item's entries name (without decoding the rest of each entry)."""
    return {json.loads(text)[0] for text in history or ()}


def entries(job_id: str, history: Iterable[str] | None) -> list[JobLog]:
    """The item's entries, newest first."""
    return sorted((decode(job_id, text) for text in history or ()), key=lambda log: log.id, reverse=True)


def merge_newest_first(compact: list[JobLog], records: Iterable[JobLogRecord]) -> Iterator[tuple[JobLog, int]]:
    """The history newest first: ``compact`` entries (newest first) merged with the job's ``job_logs`` items of
    the same range (newest first, as a Query returns them). A detail replaces its entry; an orphan detail is
    skipped. Yields each log with the payload bytes it carries (for a page's size budget)."""
    named = {log.id for log in compact}
    position = 0
    for record in records:
        while position < len(compact) and compact[position].id > record.log_id:
            yield compact[position], 0
            position += 1
        if record.log_id in named:
            position += 1 if position < len(compact) and compact[position].id == record.log_id else 0
        elif record.history_detail:
            continue
        yield log_entity(record), _payload_bytes(record)
    yield from ((log, 0) for log in compact[position:])


def _payload_bytes(record: JobLogRecord) -> int:
    return stored_size(record.request_payload) + stored_size(record.response_payload)


def write_details(logs: list[JobLog]) -> None:
    """The details of ``logs``' entries, as plain puts (before the write that names them)."""
    for log in logs:
        if has_detail(log):
            log_record(log, detail=True).save()


def append_actions(job: Job, logs: list[JobLog]) -> list[Action]:
    """Writes ``logs``' details and answers the action that appends their entries to the job item's history.
    A job written more than :data:`INLINE_WRITES` times keeps further logs as items of their own (no action):
    its item stays small, and a write that then loses its race leaves its logs behind."""
    if job.version >= INLINE_WRITES:
        for log in logs:
            log_record(log).save()
        return []
    write_details(logs)
    return [JobRecord.history.set((JobRecord.history | []).append([encode(log) for log in logs]))]
