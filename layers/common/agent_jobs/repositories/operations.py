"""Queries for operations (gauges, worker status, stats, the sweeper): counts, recent windows, and the
sweeper's page of candidates with its durable cursor.

Every read here is a Query on an index with a bound: COUNT queries stop at a cap, windows take the newest
N keys, the sweeper reads at most N candidates per run. Nothing scans a table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pynamodb.constants import COUNT
from pynamodb.models import Model

from agent_jobs.models.checkpoints import CheckpointStatus
from agent_jobs.models.jobs import JobStatus, JobSummary
from agent_jobs.repositories.jobs import fetch_summaries
from agent_jobs.repositories.records import to_entity
from agent_jobs.repositories.tables import ALL_JOBS_KEY, CheckpointRecord, JobLogRecord, JobRecord

# Where the sweeper's cursor lives: one small item in the job_logs table under a partition no job can have
# (job ids are uuid hex). Nothing reads that partition but the sweeper; it carries no index attribute.
SWEEPER_STATE = ("~sweeper", "cursor")
Cursor = dict[str, dict[str, Any]]  # DynamoDB's LastEvaluatedKey of the by_status index


@dataclass(frozen=True)
class Count:
    """A capped count: when ``capped`` the true number is at least ``value``."""

    value: int
    capped: bool = False


def _capped_count(model: type[Model], index_name: str, hash_key: str, cap: int) -> Count:
    """``Select=COUNT`` Query pages on an index partition until the end or ``cap`` items were counted.

    (PynamoDB's ``count(limit=...)`` only sizes the pages; it always reads the whole partition.)
    """
    connection: Any = model._get_connection()
    total = 0
    start: dict[str, Any] | None = None
    while True:
        page = connection.query(
            hash_key, index_name=index_name, select=COUNT, limit=cap - total, exclusive_start_key=start
        )
        total += int(page.get("Count", 0))
        start = page.get("LastEvaluatedKey")
        if not start:
            return Count(total)
        if total >= cap:
            return Count(total, capped=True)


class OperationsRepository:
    def count_jobs(self, status: JobStatus, *, cap: int) -> Count:
        """Jobs in ``status`` (by_status index, COUNT only: no item is returned)."""
        return _capped_count(JobRecord, "by_status", status.value, cap)

    def in_progress_page(
        self, changed_before: str, *, start: Cursor | None, limit: int
    ) -> tuple[list[JobSummary], Cursor | None]:
        """Up to ``limit`` IN_PROGRESS jobs not changed since ``changed_before``, oldest first, continuing
        after ``start``: the sweeper's candidates for one run, and where the next run continues (None: the
        end was reached, start from the oldest again). The time is the index's key condition."""
        records = JobRecord.by_status.query(
            JobStatus.IN_PROGRESS.value,
            range_key_condition=JobRecord.updated_at < changed_before,
            last_evaluated_key=start,
            limit=limit,
            page_size=limit,
        )
        page = [to_entity(record, JobSummary) for record in records]
        following = records.last_evaluated_key if len(page) >= limit else None
        return page, following

    def sweeper_cursor(self) -> Cursor | None:
        """Where the previous sweep stopped (None: at the end, or never ran)."""
        item = JobLogRecord._get_connection().get_item(*SWEEPER_STATE, consistent_read=True).get("Item") or {}
        text = (item.get("cursor") or {}).get("S")
        if not text:
            return None
        try:
            cursor = json.loads(text)
        except ValueError:
            return None
        return cursor if isinstance(cursor, dict) else None

    def save_sweeper_cursor(self, cursor: Cursor | None, *, previous: Cursor | None) -> None:
        """Keeps ``cursor`` for the next sweep (one small put, only when it moved)."""
        if cursor == previous:
            return
        attributes = {"cursor": {"S": json.dumps(cursor, sort_keys=True)}} if cursor else {}
        JobLogRecord._get_connection().put_item(*SWEEPER_STATE, attributes=attributes)

    def recent_jobs(self, limit: int) -> list[JobSummary]:
        """The newest ``limit`` jobs, newest first (by_creation keys, then BatchGet of their summaries)."""
        if limit <= 0:
            return []
        keys = JobRecord.by_creation.query(ALL_JOBS_KEY, scan_index_forward=False, limit=limit, page_size=limit)
        return list(fetch_summaries(keys, 100))

    def count_checkpoints(self, status: CheckpointStatus, *, cap: int) -> Count:
        return _capped_count(CheckpointRecord, "by_status", status.value, cap)

    def oldest_checkpoint_created_at(self, status: CheckpointStatus) -> str | None:
        """When the oldest checkpoint in ``status`` was raised (by_status is ordered by created_at)."""
        for key in CheckpointRecord.by_status.query(status.value, limit=1):
            return str(key.created_at)
        return None
