"""What happens after something happened: the application metrics, one place per event (DESIGN.md §8).

- job transitions: :func:`job_transitioned`, called by ``lifecycle.apply`` after every successful write,
  and :func:`job_created`, called by ``JobService.create``;
- the agent call (``domain/execution.py``) and the judge calls (``domain/validation.py``,
  ``domain/assignment.py``): :func:`agent_called`, :func:`judge_called`;
- checkpoints (called by the checkpoint domain): :func:`checkpoint_created`, :func:`checkpoint_decided`;
- the sweeper: :func:`job_swept`.

Names, units and dimensions live in ``metrics_catalog.py``. A hook never raises: the event it reports has
already happened (the write is done), so a metric problem is logged and the caller carries on.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec

from agent_jobs.domain.policies import _policies  # the known job types (no public accessor yet)
from agent_jobs.domain.transitions import JobEvent
from agent_jobs.metrics_catalog import CHECKPOINT_OUTCOMES, OTHER_JOB_TYPE, emit
from agent_jobs.models.base import parse_time
from agent_jobs.models.checkpoints import Checkpoint
from agent_jobs.models.jobs import Job, JobStatus
from agent_jobs.observability import logger

P = ParamSpec("P")

# The status a transition reached → its counter. Durations are measured for the same outcomes.
OUTCOME_COUNTERS: dict[JobStatus, str] = {
    JobStatus.COMPLETED: "JobsCompleted",
    JobStatus.FAILED: "JobsFailed",
    JobStatus.REJECTED: "JobsRejected",
    JobStatus.CANCELLED: "JobsCancelled",
    JobStatus.RESUBMISSION_REQUIRED: "JobsResubmissionRequired",
}
CHECKPOINT_COUNTERS = {
    "approved": "CheckpointsApproved",
    "rejected": "CheckpointsRejected",
    "expired": "CheckpointsExpired",
    "changes-requested": "CheckpointsChangesRequested",
    "cancelled": "CheckpointsCancelled",
}
RESTARTED_FROM = frozenset({JobStatus.FAILED, JobStatus.RESUBMISSION_REQUIRED})


def _never_raises(hook: Callable[P, None]) -> Callable[P, None]:
    @functools.wraps(hook)
    def safe(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            hook(*args, **kwargs)
        except Exception:
            logger.exception("metric hook failed", extra={"hook": hook.__name__})

    return safe


def job_type_dimension(job_type: str | None) -> str:
    """A job type as a metric dimension: the known types by name, anything a user made up as ``other``.

    Known = the checkpoint policy table (``domain/policies.py`` plus the ``JOB_TYPE_CHECKPOINTS`` setting):
    give a new type its own series by listing it there (``{"my-type": {}}`` when it has no checkpoints).
    """
    return job_type if job_type and job_type in _policies() else OTHER_JOB_TYPE


def _seconds_between(start: str, end: str) -> float:
    return max(0.0, (parse_time(end) - parse_time(start)).total_seconds())


@_never_raises
def job_created(job: Job) -> None:
    emit("JobsCreated", 1, jobType=job_type_dimension(job.job_type))


@_never_raises
def job_transitioned(before: Job, after: Job, event: JobEvent) -> None:
    """Hook called by lifecycle.apply after every successful transition."""
    job_type = job_type_dimension(after.job_type)
    counter = OUTCOME_COUNTERS.get(after.status)
    if counter is not None and before.status != after.status:
        emit(counter, 1, jobType=job_type)
        emit(
            "JobDurationSeconds",
            _seconds_between(after.created_at, after.updated_at),
            jobType=job_type,
            status=after.status.value,
        )
    elif event == JobEvent.RETRY:
        emit("JobsRetried", 1, jobType=job_type)
    elif event == JobEvent.START and before.status in RESTARTED_FROM:
        emit("JobsResubmitted", 1, jobType=job_type)


@_never_raises
def job_settled(before: Job, after: Job, event: JobEvent, message: str) -> None:
    """Hook called by lifecycle.apply after every transition, next to :func:`job_transitioned`: an attempt that
    settled adds to its agent's scorecard counters (``domain/scorecards.py``)."""
    from agent_jobs.domain.scorecards import record_settled  # its repository needs the tables bound

    record_settled(before, after, event, message)


@_never_raises
def agent_called(job_type: str, *, latency_ms: float | None, ok: bool) -> None:
    """One agent call (with its retries): its latency when it answered, an error when it did not."""
    dimension = job_type_dimension(job_type)
    if ok and latency_ms is not None:
        emit("AgentCallLatencyMs", latency_ms, jobType=dimension)
    elif not ok:
        emit("AgentCallErrors", 1, jobType=dimension)


@_never_raises
def judge_called(
    task: str,
    *,
    latency_ms: float | None = None,
    usage: dict[str, int] | None = None,
    verdict: str | None = None,
) -> None:
    """One judge call: ``task`` is validate or assign; ``verdict`` pass/fail/unavailable (validate only)."""
    if verdict is not None:
        emit("JudgeVerdicts", 1, verdict=verdict)
    if latency_ms is not None:
        emit("JudgeLatencyMs", latency_ms, task=task)
    if usage:
        tokens = usage.get("total_tokens") or usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)
        emit("JudgeTokens", tokens, task=task)


@_never_raises
def checkpoint_created(checkpoint: Checkpoint) -> None:
    emit("CheckpointsCreated", 1, jobType=job_type_dimension(checkpoint.job_type))


@_never_raises
def checkpoint_decided(checkpoint: Checkpoint, outcome: str, wait_seconds: float) -> None:
    """A checkpoint left PENDING: ``outcome`` is one of ``CHECKPOINT_OUTCOMES``."""
    if outcome not in CHECKPOINT_OUTCOMES:
        raise ValueError(f"unknown checkpoint outcome {outcome!r}")
    job_type = job_type_dimension(checkpoint.job_type)
    emit(CHECKPOINT_COUNTERS[outcome], 1, jobType=job_type)
    emit("CheckpointWaitSeconds", max(0.0, wait_seconds), jobType=job_type, outcome=outcome)


@_never_raises
def job_swept(action: str) -> None:
    """The sweeper acted on a stuck job: redispatched, revalidated or failed."""
    emit("SweptJobs", 1, action=action)
