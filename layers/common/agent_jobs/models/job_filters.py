"""What a job list may be filtered by (DESIGN.md §16), as one value the API builds and the repository plans."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from agent_jobs.models.jobs import JobStatus, JobSummary

# ISO-8601 in UTC: a date (midnight UTC), or a date and time ending in Z or +00:00, seconds and fraction optional
UTC_INSTANT_PATTERN = r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:Z|[+-]00:00))?$"
_UTC_INSTANT = re.compile(UTC_INSTANT_PATTERN)
# Index entries one page of a filtered list may read: 5 x limit, within these (repositories/job_lists.py)
MIN_READ, MAX_READ = 100, 500


def utc_instant(text: str) -> str:
    """``text`` in the stored form of ``createdAt`` (``YYYY-MM-DDTHH:MM:SS.mmmZ``, which sorts as time), a
    fraction finer than milliseconds rounded up — so ``>=`` and ``<`` on stored times mean what they say of
    ``text``. ValueError when ``text`` is not an ISO-8601 UTC time or names no real date."""
    found = _UTC_INSTANT.fullmatch(text)
    if found is None:
        raise ValueError("not an ISO-8601 UTC time (e.g. 2025-01-31T12:00:00Z)")
    year, month, day, hour, minute, second, fraction = found.groups()
    nanoseconds = int((fraction or "0").ljust(9, "0"))
    try:
        instant = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=UTC
        )
        instant += timedelta(milliseconds=-(-nanoseconds // 1_000_000))  # rounded up to whole milliseconds
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not a real UTC time: {exc}") from exc
    return instant.isoformat(timespec="milliseconds").replace("+00:00", "Z")  # the year always has 4 digits


@dataclass(frozen=True)
class JobFilter:
    """Every member given must hold (AND). ``created_after`` is inclusive and ``created_before`` exclusive, both in
    the stored form (:func:`utc_instant`), so consecutive windows neither overlap nor leave a gap."""

    status: JobStatus | None = None
    job_type: str | None = None
    tag: str | None = None  # one canonical key:value (models/tags.py)
    agent_id: str | None = None
    priority: int | None = None
    created_after: str | None = None
    created_before: str | None = None

    def matches(self, job: JobSummary) -> bool:
        return (
            (self.status is None or job.status == self.status)
            and (self.job_type is None or job.job_type == self.job_type)
            and (self.tag is None or self.tag in job.tags)
            and (self.agent_id is None or job.assigned_agent_id == self.agent_id)
            and (self.priority is None or job.priority == self.priority)
            and (self.created_after is None or job.created_at >= self.created_after)
            and (self.created_before is None or job.created_at < self.created_before)
        )
