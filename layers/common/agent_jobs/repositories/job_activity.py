"""Jobs by recent activity, for the stats charts: one bounded Query per status on the ``by_status`` index.

``by_status`` is keyed by (status, updated_at) and projects the job summary, ``created_at`` included, so the
jobs of one status changed since a moment are one Query of small index items, with no BatchGet of the (possibly
large) job items that the keys-only ``by_creation`` index would need.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent_jobs.models.jobs import JobStatus, JobSummary
from agent_jobs.repositories.records import to_entity
from agent_jobs.repositories.tables import JobRecord


@dataclass(frozen=True)
class ChangedSince:
    """The jobs of one status changed at or after a moment, most recently changed first. When ``capped`` the
    read stopped at the cap: jobs changed before ``jobs[-1].updated_at`` may be missing."""

    jobs: list[JobSummary]
    capped: bool


def jobs_changed_since(status: JobStatus, since: str, *, cap: int) -> ChangedSince:
    """At most ``cap`` jobs in ``status`` whose ``updated_at`` ≥ ``since`` (the index's key condition)."""
    records = JobRecord.by_status.query(
        status.value,
        range_key_condition=JobRecord.updated_at >= since,
        scan_index_forward=False,
        limit=cap + 1,  # one more than the cap says whether the cap cut the read short
        page_size=min(cap + 1, 1000),
    )
    jobs = [to_entity(record, JobSummary) for record in records]
    return ChangedSince(jobs[:cap], capped=len(jobs) > cap)
