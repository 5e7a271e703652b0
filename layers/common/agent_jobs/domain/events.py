"""What happens after a transition was written: metrics (one place per event)."""

from __future__ import annotations

from agent_jobs.domain.transitions import JobEvent
from agent_jobs.models.jobs import Job


def job_transitioned(before: Job, after: Job, event: JobEvent) -> None:
    """Hook called by lifecycle.apply after every successful transition."""
    # Metrics are added by the operations work (observability.job_metrics).
    return None
