"""Jobs and their logs in DynamoDB. A status change is one conditional UpdateItem of the job item that appends
its log entries to the item's compact history; the entries' payloads are plain puts before it (DESIGN.md §13,
``job_history.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from agent_jobs.errors import Conflict
from agent_jobs.models.job_filters import JobFilter
from agent_jobs.models.jobs import Job, JobLog, JobStatus, JobSummary, LogKind
from agent_jobs.repositories import job_history, job_lists, job_tags
from agent_jobs.repositories.job_logs import (
    HISTORY_END,
    attempt_prefix,
    log_entity,
    log_record,
    new_log_id,
    place_result,
    stored_result,
)
from agent_jobs.repositories.paging import Page, decode_cursor, encode_cursor
from agent_jobs.repositories.records import to_entity, to_record
from agent_jobs.repositories.tables import JobLogRecord, JobRecord
from agent_jobs.repositories.transactions import conditional

STALE = "the job changed while this request ran; reload it and try again"
MAX_LOGS = 500
LOG_PAGE_BYTES = 1024 * 1024  # payload bytes of one page of history: an answer is the page's size, not its count


def _set(attribute: Any, value: Any) -> Action:
    return attribute.remove() if value is None else attribute.set(value)


class JobRepository:
    # --- reads -----------------------------------------------------------------------------------
    def get(self, job_id: str) -> Job | None:
        found = self.get_with_history(job_id)
        return found[0] if found else None

    def get_with_history(self, job_id: str) -> tuple[Job, list[str]] | None:
        """The job and its compact history (:mod:`job_history`) from one consistent read of its item."""
        try:
            record = JobRecord.get(job_id, consistent_read=True)
        except JobRecord.DoesNotExist:
            return None
        if record.result_ref:  # a large result lives in its own item (job_logs.place_result)
            record.result = stored_result(job_id, record.result_ref)
        return to_entity(record, Job), [str(entry) for entry in record.history or []]

    def list_for_user(self, user_id: str, filters: JobFilter, *, limit: int, token: str | None) -> Page[JobSummary]:
        """One page of ``user_id``'s jobs that match ``filters``, newest first (a bounded read: job_lists.py)."""
        plan = job_lists.plan_for_user(user_id, filters)
        return job_lists.read_page(
            plan, lambda job: job.user_id == user_id and filters.matches(job), limit=limit, token=token
        )

    def list_all(self, filters: JobFilter, *, limit: int, token: str | None) -> Page[JobSummary]:
        """One page of every user's jobs that match ``filters``: newest first, or with a status (and no tag) most
        recently changed first (a bounded read: job_lists.py)."""
        return job_lists.read_page(job_lists.plan_for_all(filters), filters.matches, limit=limit, token=token)

    def list_by_status(self, status: JobStatus, *, updated_before: str | None = None) -> Iterator[JobSummary]:
        """Jobs in one status, oldest change first (sweeper and gauges)."""
        condition = JobRecord.updated_at < updated_before if updated_before else None
        return _summaries(JobRecord.by_status.query(status.value, range_key_condition=condition))

    def logs(self, job_id: str, limit: int = MAX_LOGS) -> list[JobLog]:
        """The newest ``limit`` entries of the job's history, in time order."""
        return self.log_page(job_id, limit=limit).items

    def log_page(
        self, job_id: str, *, limit: int = MAX_LOGS, token: str | None = None, history: list[str] | None = None
    ) -> Page[JobLog]:
        """One page of the job's history: pages run newest first (``token`` continues to older entries), the
        entries of a page in time order. A page also ends after :data:`LOG_PAGE_BYTES` of payloads.
        ``history``: the job item's compact history when the caller has just read it (else it is read here)."""
        start = decode_cursor(token, expected={"job_id": job_id}, key_names={"job_id", "log_id"})
        before = start["log_id"]["S"] if start else HISTORY_END
        history = self._history(job_id) if history is None else history
        compact = [log for log in job_history.entries(job_id, history) if log.id < before]
        records = JobLogRecord.query(
            job_id,
            range_key_condition=JobLogRecord.log_id < before,
            scan_index_forward=False,
            consistent_read=True,  # a detail is written right before the update that names it
            page_size=limit + 1,  # the page and a peek at what follows
        )
        newest_first: list[JobLog] = []
        budget = LOG_PAGE_BYTES
        for log, payload_bytes in job_history.merge_newest_first(compact, records):
            if len(newest_first) == limit or (newest_first and budget <= 0):
                cursor = encode_cursor({"job_id": {"S": job_id}, "log_id": {"S": newest_first[-1].id}})
                return Page(newest_first[::-1], cursor)
            budget -= payload_bytes
            newest_first.append(log)
        return Page(newest_first[::-1], None)

    def answer(self, job_id: str, attempt: int) -> JobLog | None:
        """The agent's answer (AGENT_RESPONSE entry) for ``attempt``: one Query on that attempt's key prefix,
        however long the history before it (and a read of the history when it must tell a detail whose
        transition happened from one whose transition lost its race)."""
        records = JobLogRecord.query(
            job_id,
            range_key_condition=JobLogRecord.log_id.startswith(attempt_prefix(attempt)),
            filter_condition=JobLogRecord.status == LogKind.AGENT_RESPONSE.value,
            scan_index_forward=False,
            consistent_read=True,  # validation reads it right after the execute step wrote it
        )
        named: set[str] | None = None
        for record in records:
            if record.history_detail:
                if named is None:
                    named = job_history.ids(self._history(job_id))
                if record.log_id not in named:
                    continue
            return log_entity(record)
        return None

    @staticmethod
    def _history(job_id: str) -> list[str]:
        try:
            record = JobRecord.get(job_id, consistent_read=True, attributes_to_get=["history"])
        except JobRecord.DoesNotExist:
            return []
        return [str(entry) for entry in record.history or []]

    # --- writes ----------------------------------------------------------------------------------
    def create(self, job: Job, logs: list[JobLog]) -> Job:
        """Writes the new job with its first log entries: one PutItem (and a plain put per entry's detail)."""
        job_tags.write_entries(job)  # first: a failure after them leaves entries of no job, which lists skip
        job_history.write_details(logs)
        record = to_record(job, JobRecord)
        record.user_phase = job_lists.user_phase(job.user_id, job.status)
        record.history = [job_history.encode(log) for log in logs]  # type: ignore[misc]  # stored as strings
        with conditional("a job with this id exists"):
            record.save(condition=JobRecord.id.does_not_exist())
        return job.model_copy(update={"version": 1})

    def write_transition(
        self,
        job: Job,
        target: JobStatus,
        changes: dict[str, Any],
        logs: list[JobLog],
        extra: Condition | None = None,
    ) -> Job:
        """Moves ``job`` to ``target`` with ``changes`` and its log entries if nobody changed it since it was read:
        the entries' details and a large result first (plain puts), then one conditional UpdateItem."""
        now = logs[-1].created_at
        update = {**changes, "status": target.value, "updated_at": now}
        stored = dict(update)
        if job_lists.phase_of(target) != job_lists.phase_of(job.status):  # else by_user_phase's key stays put
            stored["user_phase"] = job_lists.user_phase(job.user_id, target)
        if "result" in changes:
            placed, result_item = place_result(job.id, changes["result"], now)
            stored.update(placed)
            if result_item is not None:
                result_item.save()
        actions = [_set(getattr(JobRecord, name), value) for name, value in stored.items()]
        actions += job_history.append_actions(job, logs)
        record = JobRecord(job.id)
        record.version = job.version
        condition = JobRecord.status == job.status.value
        if extra is not None:
            condition &= extra
        with conditional(STALE):
            record.update(actions=actions, condition=condition)
        return job.model_copy(update={**update, "status": target, "version": job.version + 1})

    def claim_dispatch(self, job: Job, *, claimed_at: str, deadline: str) -> Job:
        """Marks the job's current attempt as sent to the agent, once (the execute step's idempotency), and
        stamps its lease: ``claimed_at`` and the ``deadline`` by which the attempt must have answered. The
        lease starts here, so time spent queued never counts (DESIGN.md §14).

        Raises :class:`Conflict` when the attempt was already sent or the job moved on.
        """
        record = JobRecord(job.id)
        record.version = job.version  # PynamoDB always bumps the version on update
        condition = (
            (JobRecord.status == JobStatus.IN_PROGRESS.value)
            & (JobRecord.attempt == job.attempt)
            & (JobRecord.dispatched_attempt < job.attempt)
        )
        lease = {"claimed_at": claimed_at, "deadline": deadline}
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
                ],
                condition=condition,
                add_version_condition=False,
            )
        lease = {"claimed_at": None, "deadline": None}
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
        """A log entry of no transition (an admin's note, the sweeper's): its own item, always shown."""
        log_record(log).save()


def _summaries(records: Iterator[JobRecord]) -> Iterator[JobSummary]:
    for record in records:
        yield to_entity(record, JobSummary)


def fetch_summaries(keys: Iterator[JobRecord], chunk: int) -> Iterator[JobSummary]:
    """The jobs of keys-only index entries, in index order, by BatchGet of ``chunk`` (≤ 100) at a time."""
    for batch in job_lists.chunks(keys, min(chunk, job_lists.BATCH_GET_MAX)):
        found = job_lists.summaries([key.id for key in batch])
        yield from (found[key.id] for key in batch if key.id in found)


__all__ = ["Conflict", "JobRepository", "new_log_id"]
