"""The job_logs table's items: the key scheme, and what of a log entry or a job's result is stored where.

Keys (one partition per job):

- history entries ``a<attempt:06d>#<createdAt>#<seq><random>``: a Query returns them in order (attempts
  only grow, and an attempt's entries are written in time order), and one attempt's entries — its agent
  answer — are a key-prefix Query away, however long the history;
- ``~result``: the job's result when it is too large to live in the job item, sorted after every entry.

Sizes are measured as stored (``records.stored_size``): an entry's payloads are capped at
:data:`MAX_STORED_PAYLOAD_BYTES`, so an item never reaches DynamoDB's 400 KB limit.
"""

from __future__ import annotations

import secrets
from typing import Any

from agent_jobs.errors import PayloadTooLarge
from agent_jobs.models.jobs import MAX_RESULT_BYTES, JobLog, LogKind
from agent_jobs.repositories.records import stored_size, to_record
from agent_jobs.repositories.tables import JobLogRecord

HISTORY_END = "b"  # every history key sorts below this (entries before the attempt prefix too: "2024-…")
RESULT_KEY = "~result"
RESULT_KIND = "RESULT"  # the status attribute of the ~result item (never a history entry)
MAX_STORED_PAYLOAD_BYTES = MAX_RESULT_BYTES  # request + response of one entry, or a result, as stored
INLINE_RESULT_BYTES = 16 * 1024  # a larger result is the ~result item: the job item is rewritten on every change


def attempt_prefix(attempt: int) -> str:
    return f"a{attempt:06d}#"


def new_log_id(attempt: int, created_at: str, sequence: int = 0) -> str:
    """Ordered by attempt, then time; ``sequence`` keeps the order of entries written in the same millisecond."""
    return f"{attempt_prefix(attempt)}{created_at}#{sequence:02d}{secrets.token_hex(4)}"


def log_time_and_attempt(log_id: str) -> tuple[str, int]:
    """The time and the attempt a :func:`new_log_id` carries."""
    prefix, created_at, _ = log_id.split("#", 2)
    return created_at, int(prefix[1:])


def check_stored(what: str, size: int) -> None:
    if size > MAX_STORED_PAYLOAD_BYTES:
        raise PayloadTooLarge(
            f"{what} takes {size // 1024} KB when stored; at most {MAX_STORED_PAYLOAD_BYTES // 1024} KB is kept"
        )


def log_record(log: JobLog, *, detail: bool = False) -> JobLogRecord:
    """The item of one history entry (``detail``: of an entry the job item's history names, ``job_history``).
    An agent's answer is stored without the request it answered: that is
    the job's own fields (``execution.agent_request``), already in the job item — never stored twice."""
    record = to_record(log, JobLogRecord)
    record.log_id = log.id
    record.history_detail = True if detail else None
    if log.status == LogKind.AGENT_RESPONSE:
        record.request_payload = None
    what = "the agent's answer" if log.status == LogKind.AGENT_RESPONSE else f"the {log.status} log's payload"
    check_stored(what, stored_size(record.request_payload) + stored_size(record.response_payload))
    return record


def log_entity(record: JobLogRecord) -> JobLog:
    values = {**record.attribute_values, "id": record.log_id}
    values.pop("log_id", None)
    values.pop("history_detail", None)
    return JobLog.model_validate({k: v for k, v in values.items() if v is not None})


def place_result(job_id: str, result: Any, at: str) -> tuple[dict[str, Any], JobLogRecord | None]:
    """Where a job's result goes: the job item's fields to set, and the ``~result`` item to write with them
    when the result is too large to inline (then the job item only points at it)."""
    size = stored_size(result)
    if size <= INLINE_RESULT_BYTES:
        return {"result": result, "result_ref": None}, None
    check_stored("the result", size)
    item = JobLogRecord(job_id, RESULT_KEY, status=RESULT_KIND, created_at=at, response_payload=result)
    return {"result": None, "result_ref": RESULT_KEY}, item


def stored_result(job_id: str, ref: str) -> Any:
    """The result a job item points at (None if the item is gone)."""
    try:
        return JobLogRecord.get(job_id, ref, consistent_read=True).response_payload
    except JobLogRecord.DoesNotExist:
        return None
