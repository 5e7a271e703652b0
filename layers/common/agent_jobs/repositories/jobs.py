"""Jobs and their logs in DynamoDB. Status changes are written with their log entry in one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from agent_jobs.errors import Conflict
from agent_jobs.models.jobs import Job, JobLog, JobStatus, JobSummary, LogKind
from agent_jobs.repositories.job_logs import (
    HISTORY_END,
    attempt_prefix,
    log_entity,
    log_record,
    new_log_id,
    place_result,
    stored_result,
)
from agent_jobs.repositories.paging import Page, decode_cursor, encode_cursor, take
from agent_jobs.repositories.records import stored_size, to_entity, to_record
from agent_jobs.repositories.tables import ALL_JOBS_KEY, JobLogRecord, JobRecord
from agent_jobs.repositories.transactions import conditional, transaction

STALE = "the job changed while this request ran; reload it and try again"
MAX_LOGS = 500
LOG_PAGE_BYTES = 1024 * 1024  # payload bytes of one page of history: an answer is the page's size, not its count


def _set(attribute: Any, value: Any) -> Action:
    return attribute.remove() if value is None else attribute.set(value)


class JobRepository:
    # --- reads -----------------------------------------------------------------------------------
    def get(self, job_id: str) -> Job | None:
        try:
            record = JobRecord.get(job_id, consistent_read=True)
        except JobRecord.DoesNotExist:
            return None
        if record.result_ref:  # a large result lives in its own item (job_logs.place_result)
            record.result = stored_result(job_id, record.result_ref)
        return to_entity(record, Job)

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
        """The newest ``limit`` entries of the job's history, in time order."""
        return self.log_page(job_id, limit=limit).items

    def log_page(self, job_id: str, *, limit: int = MAX_LOGS, token: str | None = None) -> Page[JobLog]:
        """One page of the job's history: pages run newest first (``token`` continues to older entries), the
        entries of a page in time order. A page also ends after :data:`LOG_PAGE_BYTES` of payloads."""
        start = decode_cursor(token, expected={"job_id": job_id}, key_names={"job_id", "log_id"})
        records = JobLogRecord.query(
            job_id,
            range_key_condition=JobLogRecord.log_id < HISTORY_END,
            scan_index_forward=False,
            last_evaluated_key=start,
            page_size=limit + 1,  # the page and a peek at what follows
        )
        newest_first: list[JobLog] = []
        budget = LOG_PAGE_BYTES
        for record in records:
            if len(newest_first) == limit or (newest_first and budget <= 0):
                cursor = encode_cursor({"job_id": {"S": job_id}, "log_id": {"S": newest_first[-1].id}})
                return Page(newest_first[::-1], cursor)
            budget -= stored_size(record.request_payload) + stored_size(record.response_payload)
            newest_first.append(log_entity(record))
        return Page(newest_first[::-1], None)

    def answer(self, job_id: str, attempt: int) -> JobLog | None:
        """The agent's answer (AGENT_RESPONSE entry) for ``attempt``: one Query on that attempt's key prefix,
        however long the history before it."""
        records = JobLogRecord.query(
            job_id,
            range_key_condition=JobLogRecord.log_id.startswith(attempt_prefix(attempt)),
            filter_condition=JobLogRecord.status == LogKind.AGENT_RESPONSE.value,
            scan_index_forward=False,
            consistent_read=True,  # validation reads it right after the execute step wrote it
        )
        return next((log_entity(record) for record in records), None)

    # --- writes ----------------------------------------------------------------------------------
    def create(self, job: Job, log: JobLog) -> Job:
        record = to_record(job, JobRecord)
        with transaction(JobRecord, "a job with this id exists") as tx:
            tx.save(record, condition=JobRecord.id.does_not_exist())
            tx.save(log_record(log))
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
        stored, items = dict(update), [log_record(log) for log in logs]
        if "result" in changes:
            placed, result_item = place_result(job.id, changes["result"], now)
            stored.update(placed)
            items += [result_item] if result_item is not None else []
        record = JobRecord(job.id)
        record.version = job.version
        actions = [_set(getattr(JobRecord, name), value) for name, value in stored.items()]
        condition = JobRecord.status == job.status.value
        if extra is not None:
            condition &= extra
        with transaction(JobRecord, STALE) as tx:
            tx.update(record, actions=actions, condition=condition)
            for item in items:
                tx.save(item)
        return job.model_copy(update={**update, "status": target, "version": job.version + 1})

    def claim_dispatch(self, job: Job, *, claimed_at: str, deadline: str, task_token: str | None = None) -> Job:
        """Marks the job's current attempt as sent to the agent, once (the execute step's idempotency), and
        stamps its lease: ``claimed_at`` and the ``deadline`` by which the attempt must have answered. The
        lease starts here, so time spent queued never counts (DESIGN.md §14). A workflow step's
        ``task_token`` is kept with the lease so the sweeper can end the step when the lease expires.

        Raises :class:`Conflict` when the attempt was already sent or the job moved on.
        """
        record = JobRecord(job.id)
        record.version = job.version  # PynamoDB always bumps the version on update
        condition = (
            (JobRecord.status == JobStatus.IN_PROGRESS.value)
            & (JobRecord.attempt == job.attempt)
            & (JobRecord.dispatched_attempt < job.attempt)
        )
        lease = {"claimed_at": claimed_at, "deadline": deadline, "task_token": task_token}
        with conditional("this attempt was already sent to the agent"):
            # none of these is in an index: this write touches the item only (updated_at stays the start's)
            record.update(
                actions=[
                    JobRecord.dispatched_attempt.set(job.attempt),
                    *(_set(getattr(JobRecord, name), value) for name, value in lease.items()),
                ],
                condition=condition,
                add_version_condition=False,
            )
        return job.model_copy(update={"dispatched_attempt": job.attempt, **lease, "version": job.version + 1})

    def release_dispatch(self, job: Job) -> Job:
        """Undoes :meth:`claim_dispatch` for an attempt whose agent was never called (a throttle right after
        the claim), so the message's redelivery runs the attempt instead of being dropped as a duplicate.

        Raises :class:`Conflict` when the job moved on since it was claimed.
        """
        record = JobRecord(job.id)
        record.version = job.version
        condition = (
            (JobRecord.status == JobStatus.IN_PROGRESS.value)
            & (JobRecord.attempt == job.attempt)
            & (JobRecord.dispatched_attempt == job.attempt)
        )
        with conditional("the job moved on after its attempt was claimed"):
            record.update(
                actions=[
                    JobRecord.dispatched_attempt.set(job.attempt - 1),
                    JobRecord.claimed_at.remove(),
                    JobRecord.deadline.remove(),
                    JobRecord.task_token.remove(),
                ],
                condition=condition,
                add_version_condition=False,
            )
        lease = {"claimed_at": None, "deadline": None, "task_token": None}
        return job.model_copy(update={"dispatched_attempt": job.attempt - 1, **lease, "version": job.version + 1})

    def count_resend(self, job: Job, resends: int) -> Job:
        """Records that the sweeper re-sent the current attempt's message (``resends`` times now), if the job
        is still on that attempt. Raises :class:`Conflict` otherwise."""
        record = JobRecord(job.id)
        record.version = job.version
        condition = (JobRecord.status == JobStatus.IN_PROGRESS.value) & (JobRecord.attempt == job.attempt)
        with conditional("the job moved on while it was swept"):
            record.update(
                actions=[JobRecord.resent_attempt.set(job.attempt), JobRecord.resends.set(resends)],
                condition=condition,
                add_version_condition=False,
            )
        return job.model_copy(update={"resent_attempt": job.attempt, "resends": resends, "version": job.version + 1})

    def add_log(self, log: JobLog) -> None:
        log_record(log).save()


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


__all__ = ["Conflict", "JobRepository", "new_log_id"]
