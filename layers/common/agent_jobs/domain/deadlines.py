"""The owner's deadline on a job (``deadlineSeconds``, DESIGN.md §14): past it a running job is FAILED with that
reason, whatever phase it is in — queued, waiting for a sync or an async agent, waiting for its judge, or at a
checkpoint (whose wait is then ended, so its execution stops too).

The sweeper applies it each run; a callback that arrives past the deadline applies it at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from agent_jobs.domain.checkpoints import cancel_for_job
from agent_jobs.domain.lifecycle import apply
from agent_jobs.domain.policies import policy_for
from agent_jobs.domain.transitions import JobEvent
from agent_jobs.models.base import parse_time
from agent_jobs.models.jobs import Job, JobStatus
from agent_jobs.observability import logger
from agent_jobs.services import Services


def due_at(job: Job) -> datetime | None:
    """When the job's own deadline passes (None: it has none)."""
    if not job.deadline_seconds:
        return None
    return parse_time(job.created_at) + timedelta(seconds=job.deadline_seconds)


def past_due(job: Job, now: datetime) -> bool:
    """A running job whose owner's deadline has passed."""
    due = due_at(job)
    return job.status == JobStatus.IN_PROGRESS and due is not None and due <= now


def deadline_reason(job: Job) -> str:
    return f"deadline of {job.deadline_seconds} s (deadlineSeconds) passed before the job finished"


def fail_past_due(services: Services, job: Job, *, actor: str) -> Job:
    """FAILS the job with its deadline's reason and ends the wait of any PENDING checkpoint. Raises Conflict when
    the job moved on meanwhile."""
    reason = deadline_reason(job)
    failed = apply(services.jobs, job, JobEvent.FAIL, reason, actor=actor, response={"error": reason})
    if policy_for(job.job_type).has_checkpoints:
        cancel_for_job(services, job.id, actor, reason)  # each waiting checkpoint step is told, so it ends
    logger.warning("job past its deadline failed", extra={"job_id": job.id, "attempt": job.attempt})
    return failed
