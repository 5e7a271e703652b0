"""Read-only queries for operations (gauges, worker status, stats): counts and recent windows.

Every read here is a Query on an index with a bound: COUNT queries stop at a cap, windows take the newest
N keys. Nothing scans a table.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pynamodb.constants import COUNT
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

from agent_jobs.models.checkpoints import CheckpointStatus
from agent_jobs.models.jobs import JobStatus, JobSummary
from agent_jobs.repositories.jobs import _fetch_summaries
from agent_jobs.repositories.records import to_entity
from agent_jobs.repositories.tables import ALL_JOBS_KEY, CheckpointRecord, JobRecord


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

    def in_progress_changed_before(
        self,
        updated_before: str,
        *,
        only_types: tuple[str, ...] = (),
        exclude_types: tuple[str, ...] = (),
    ) -> Iterator[JobSummary]:
        """IN_PROGRESS jobs not changed since ``updated_before``, oldest first, optionally of some job types
        only (or not of them): the sweeper's candidates. The time is the index's key condition."""
        condition: Condition | None = None
        if only_types:
            condition = JobRecord.job_type.is_in(*only_types)
        elif exclude_types:
            condition = ~JobRecord.job_type.is_in(*exclude_types)
        records = JobRecord.by_status.query(
            JobStatus.IN_PROGRESS.value,
            range_key_condition=JobRecord.updated_at < updated_before,
            filter_condition=condition,
        )
        return (to_entity(record, JobSummary) for record in records)

    def recent_jobs(self, limit: int) -> list[JobSummary]:
        """The newest ``limit`` jobs, newest first (by_creation keys, then BatchGet of their summaries)."""
        if limit <= 0:
            return []
        keys = JobRecord.by_creation.query(ALL_JOBS_KEY, scan_index_forward=False, limit=limit, page_size=limit)
        return list(_fetch_summaries(keys, 100))

    def count_checkpoints(self, status: CheckpointStatus, *, cap: int) -> Count:
        return _capped_count(CheckpointRecord, "by_status", status.value, cap)

    def oldest_checkpoint_created_at(self, status: CheckpointStatus) -> str | None:
        """When the oldest checkpoint in ``status`` was raised (by_status is ordered by created_at)."""
        for key in CheckpointRecord.by_status.query(status.value, limit=1):
            return str(key.created_at)
        return None
