"""Jobs and their logs in DynamoDB. Status changes are written with their log entry in one transaction."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from agent_jobs.errors import Conflict
from agent_jobs.models.jobs import Job, JobLog, JobStatus, JobSummary
from agent_jobs.repositories.paging import Page, decode_cursor, take
from agent_jobs.repositories.records import to_entity, to_record
from agent_jobs.repositories.tables import ALL_JOBS_KEY, JobLogRecord, JobRecord
from agent_jobs.repositories.transactions import conditional, transaction

STALE = "the job changed while this request ran; reload it and try again"
MAX_LOGS = 500


def new_log_id(created_at: str, sequence: int = 0) -> str:
    """Time-ordered; ``sequence`` keeps the order of entries written together in the same millisecond."""
    return f"{created_at}#{sequence:02d}{secrets.token_hex(4)}"


def _set(attribute: Any, value: Any) -> Action:
    return attribute.remove() if value is None else attribute.set(value)


class JobRepository:
    # --- reads -----------------------------------------------------------------------------------
    def get(self, job_id: str) -> Job | None:
        try:
            return to_entity(JobRecord.get(job_id, consistent_read=True), Job)
        except JobRecord.DoesNotExist:
            return None

    def list_for_user(
        self, user_id: str, *, status: str | None, job_type: str | None, limit: int, token: str | None
    ) -> Page[JobSummary]:
        start = decode_cursor(token, expected={"user_id": user_id}, key_names={"id", "user_id", "created_at"})
        # keys only: the index is written once per job, not on every status change; the page's items come
        # by BatchGet (reads are rarer and cheaper than the writes this saves) and filters apply to them
        keys = JobRecord.by_user.query(user_id, scan_index_forward=False, last_evaluated_key=start, page_size=limit + 1)
        items = (
            s
            for s in _fetch_summaries(keys, limit + 1)
            if (status is None or s.status == status) and (job_type is None or s.job_type == job_type)
        )
        return take(items, limit, lambda s: _key(s, "user_id", "created_at"))

    def list_all(self, *, status: str | None, job_type: str | None, limit: int, token: str | None) -> Page[JobSummary]:
        if status:
            start = decode_cursor(token, expected={"status": status}, key_names={"id", "status", "updated_at"})
            records = JobRecord.by_status.query(
                status,
                scan_index_forward=False,
                filter_condition=_filters(None, job_type),
                last_evaluated_key=start,
                page_size=limit + 1,  # the page and a peek at what follows (paging.take)
            )
            return take(_summaries(records), limit, lambda s: _key(s, "status", "updated_at"))
        start = decode_cursor(token, expected={"all_jobs": ALL_JOBS_KEY}, key_names={"id", "all_jobs", "created_at"})
        keys = JobRecord.by_creation.query(
            ALL_JOBS_KEY, scan_index_forward=False, last_evaluated_key=start, page_size=limit + 1
        )
        items = (s for s in _fetch_summaries(keys, limit + 1) if job_type is None or s.job_type == job_type)
        return take(items, limit, lambda s: {**_key(s, "created_at"), "all_jobs": {"S": ALL_JOBS_KEY}})

    def list_by_status(self, status: JobStatus, *, updated_before: str | None = None) -> Iterator[JobSummary]:
        """Jobs in one status, oldest change first (sweeper and gauges)."""
        condition = JobRecord.updated_at < updated_before if updated_before else None
        return _summaries(JobRecord.by_status.query(status.value, range_key_condition=condition))

    def logs(self, job_id: str, limit: int = MAX_LOGS) -> list[JobLog]:
        records = JobLogRecord.query(job_id, limit=limit)
        return [_log_entity(record) for record in records]

    # --- writes ----------------------------------------------------------------------------------
    def create(self, job: Job, log: JobLog) -> Job:
        record = to_record(job, JobRecord)
        with transaction(JobRecord, "a job with this id exists") as tx:
            tx.save(record, condition=JobRecord.id.does_not_exist())
            tx.save(_log_record(log))
        return job.model_copy(update={"version": 1})

    def write_transition(
        self,
        job: Job,
        target: JobStatus,
        changes: dict[str, Any],
        logs: list[JobLog],
        extra: Condition | None = None,
    ) -> Job:
        """Moves ``job`` to ``target`` with ``changes`` and its log entries if nobody changed it since it was read."""
        now = logs[-1].created_at
        update = {**changes, "status": target.value, "updated_at": now}
        record = JobRecord(job.id)
        record.version = job.version
        actions = [_set(getattr(JobRecord, name), value) for name, value in update.items()]
        condition = JobRecord.status == job.status.value
        if extra is not None:
            condition &= extra
        with transaction(JobRecord, STALE) as tx:
            tx.update(record, actions=actions, condition=condition)
            for log in logs:
                tx.save(_log_record(log))
        return job.model_copy(update={**update, "status": target, "version": job.version + 1})

    def claim_dispatch(self, job: Job) -> Job:
        """Marks the job's current attempt as sent to the agent, once: the execute step's idempotency.

        Raises :class:`Conflict` when the attempt was already sent or the job moved on.
        """
        record = JobRecord(job.id)
        record.version = job.version  # PynamoDB always bumps the version on update
        condition = (
            (JobRecord.status == JobStatus.IN_PROGRESS.value)
            & (JobRecord.attempt == job.attempt)
            & (JobRecord.dispatched_attempt < job.attempt)
        )
        with conditional("this attempt was already sent to the agent"):
            # dispatched_attempt is in no index: this write touches the item only (updated_at stays the start's)
            record.update(
                actions=[JobRecord.dispatched_attempt.set(job.attempt)],
                condition=condition,
                add_version_condition=False,
            )
        return job.model_copy(update={"dispatched_attempt": job.attempt, "version": job.version + 1})

    def add_log(self, log: JobLog) -> None:
        _log_record(log).save()


def _filters(status: str | None, job_type: str | None) -> Condition | None:
    condition: Condition | None = None
    if status:
        condition = JobRecord.status == status
    if job_type:
        by_type = JobRecord.job_type == job_type
        condition = by_type if condition is None else condition & by_type
    return condition


def _summaries(records: Iterator[JobRecord]) -> Iterator[JobSummary]:
    for record in records:
        yield to_entity(record, JobSummary)


def _fetch_summaries(keys: Iterator[JobRecord], chunk: int) -> Iterator[JobSummary]:
    """Full items for a keys-only index, fetched with BatchGet in index order."""
    batch: list[str] = []
    for key in keys:
        batch.append(key.id)
        if len(batch) >= min(chunk, 100):
            yield from _batch_get(batch)
            batch = []
    if batch:
        yield from _batch_get(batch)


def _batch_get(ids: list[str]) -> Iterator[JobSummary]:
    found = {record.id: record for record in JobRecord.batch_get(ids)}
    for job_id in ids:
        if job_id in found:
            yield to_entity(found[job_id], JobSummary)


def _key(summary: JobSummary, *names: str) -> dict[str, Any]:
    key = {"id": {"S": summary.id}}
    for name in names:
        key[name] = {"S": str(getattr(summary, name))}
    return key


def _log_record(log: JobLog) -> JobLogRecord:
    record = to_record(log, JobLogRecord)
    record.log_id = log.id
    return record


def _log_entity(record: JobLogRecord) -> JobLog:
    values = {**record.attribute_values, "id": record.log_id}
    values.pop("log_id", None)
    return JobLog.model_validate({k: v for k, v in values.items() if v is not None})


__all__ = ["Conflict", "JobRepository", "new_log_id"]
