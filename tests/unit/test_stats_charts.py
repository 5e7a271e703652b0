"""The pure parts of the stats charts' figures: hourly buckets and latency percentiles."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent_jobs.domain.stats import first_hour, hourly_buckets, percentiles
from agent_jobs.models.jobs import JobStatus, JobSummary

NOW = datetime(2025, 3, 4, 15, 42, 7, tzinfo=UTC)


def summary(job_id: str, created: str, status: JobStatus, updated: str | None = None) -> JobSummary:
    return JobSummary(
        id=job_id,
        user_id="u",
        name="n",
        job_type="simple-task",
        status=status,
        priority=5,
        created_at=created,
        updated_at=updated or created,
    )


def test_the_last_bucket_is_the_current_hour() -> None:
    assert first_hour(NOW, 1) == datetime(2025, 3, 4, 15, tzinfo=UTC)
    assert first_hour(NOW, 24) == datetime(2025, 3, 3, 16, tzinfo=UTC)


def test_jobs_fall_in_the_hour_they_were_created_by_their_status_now() -> None:
    start = first_hour(NOW, 3)  # 13:00, 14:00, 15:00
    jobs = [
        summary("a", "2025-03-04T13:00:00.000Z", JobStatus.COMPLETED),
        summary("b", "2025-03-04T13:59:59.999Z", JobStatus.FAILED),
        summary("c", "2025-03-04T15:41:00.000Z", JobStatus.PENDING),
        summary("old", "2025-03-04T12:59:59.999Z", JobStatus.COMPLETED, "2025-03-04T15:00:00.000Z"),
        # read twice while it changed (index copies in two statuses): counted once, as its latest change
        summary("d", "2025-03-04T14:10:00.000Z", JobStatus.IN_PROGRESS, "2025-03-04T14:10:01.000Z"),
        summary("d", "2025-03-04T14:10:00.000Z", JobStatus.COMPLETED, "2025-03-04T14:12:00.000Z"),
    ]
    assert hourly_buckets(jobs, start, 3) == [
        {"hour": "2025-03-04T13:00:00.000Z", "total": 2, "byStatus": {"COMPLETED": 1, "FAILED": 1}},
        {"hour": "2025-03-04T14:00:00.000Z", "total": 1, "byStatus": {"COMPLETED": 1}},
        {"hour": "2025-03-04T15:00:00.000Z", "total": 1, "byStatus": {"PENDING": 1}},
    ]


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        ([], {"p50": None, "p90": None, "p95": None, "p99": None, "samples": 0}),
        ([42.0], {"p50": 42.0, "p90": 42.0, "p95": 42.0, "p99": 42.0, "samples": 1}),
        ([10.0, 20.0], {"p50": 15.0, "p90": 19.0, "p95": 19.5, "p99": 19.9, "samples": 2}),
        ([float(n) for n in range(1, 102)], {"p50": 51.0, "p90": 91.0, "p95": 96.0, "p99": 100.0, "samples": 101}),
    ],
)
def test_percentiles_interpolate_between_the_closest_samples(samples: list[float], expected: dict[str, float]) -> None:
    assert percentiles(samples) == expected
