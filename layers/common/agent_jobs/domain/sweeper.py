"""The sweeper (DESIGN.md §7): no job stays IN_PROGRESS forever. Runs with the gauges, every minute.

A job is *stuck* when it has been IN_PROGRESS with no sign of life for longer than any healthy attempt
takes: ``agent_max_timeout_seconds * (agent_max_retries + 1) + stuck_job_margin_seconds`` (11 min by
default). Signs of life are the job's last write (``updated_at``: start, dispatch claim, retry), the
agent's answer for the current attempt (its AGENT_RESPONSE log) and, for job types with checkpoints, the
last change of any of its checkpoints. What the sweeper does with a stuck job:

- **never dispatched** (``dispatched_attempt < attempt``: the execute message was lost, e.g. the send
  failed after the status was written): send it again with ``dispatcher.start`` and log it — unless its
  execute queue still holds visible messages (the message may simply be waiting behind a backlog or a
  stopped worker; a duplicate would be harmless, the execute step claims each attempt once, but there is
  no need).
- **dispatched, the agent answered, no verdict** (the validate message was lost): ask for the
  validation again when the validate queue is idle.
- **dispatched, nothing came back** (the execute function died after claiming the attempt, so a
  redelivery is dropped as a duplicate): FAILED through ``lifecycle.apply`` with the reason
  "no result within N s (sweeper)"; the owner can resubmit.
- **job types with checkpoints** run as a Step Functions execution whose every step (execute, validate,
  each checkpoint) has its own timeout that reports back and settles the job. The sweeper leaves them to
  it: a job waiting for a human (a PENDING checkpoint) is never touched — the checkpoint has its own
  expiry, and ``domain.checkpoints.expire_overdue`` (called last) expires the ones the state machine
  missed — and any other is failed only when it showed no sign of life for the limit plus the workflow's
  validate timeout (a dead execution).

Cost, bounded as jobs grow: Queries on the jobs table's ``by_status`` index, partition IN_PROGRESS, with
``updated_at < cutoff`` as the key condition — only stale candidates are read, oldest first, never the
COMPLETED history. Two passes (plain job types, then types with checkpoints, split by a filter on
``job_type``) of at most ``sweeper_max_jobs_per_run`` candidates each per run; the rest wait a minute.
Per candidate: a consistent GetItem, one logs Query, and a checkpoints Query for types with checkpoints.
(While the worker is stopped its backlog is IN_PROGRESS and never dispatched: those candidates are seen,
left alone because their queue holds messages, and cost a GetItem each — bounded by the budget.)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from agent_jobs.domain import events
from agent_jobs.domain.gauges import QueueDepth
from agent_jobs.domain.lifecycle import apply, make_log
from agent_jobs.domain.policies import _policies, policy_for
from agent_jobs.domain.transitions import JobEvent
from agent_jobs.errors import Conflict
from agent_jobs.models.base import parse_time
from agent_jobs.models.checkpoints import CheckpointStatus
from agent_jobs.models.jobs import Job, JobStatus, LogKind
from agent_jobs.observability import logger
from agent_jobs.repositories.operations import OperationsRepository
from agent_jobs.services import Services
from agent_jobs.settings import Settings
from agent_jobs.workflow.definition import VALIDATE_TIMEOUT_SECONDS

ACTOR = "sweeper"


@dataclass
class SweepReport:
    examined: int = 0
    redispatched: list[str] = field(default_factory=list)
    revalidated: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # stuck-looking but left alone, with a reason logged
    checkpoints_expired: int | None = None  # None: the checkpoint domain does not offer expire_overdue yet

    def to_log(self) -> dict[str, Any]:
        return {
            "examined": self.examined,
            "redispatched": self.redispatched,
            "revalidated": self.revalidated,
            "failed": self.failed,
            "waiting": self.waiting,
            "checkpointsExpired": self.checkpoints_expired,
        }


def stuck_after_seconds(settings: Settings) -> int:
    """How long an attempt may show no sign of life: every agent try at its longest, plus a margin."""
    return (
        int(settings.agent_max_timeout_seconds * (settings.agent_max_retries + 1)) + settings.stuck_job_margin_seconds
    )


def iso(moment: datetime) -> str:
    """The timestamp format of ``models.base.utc_now`` (sorts as text)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def workflow_job_types() -> tuple[str, ...]:
    """The job types that run as a checkpoint workflow (they may wait for a human)."""
    return tuple(sorted(job_type for job_type, policy in _policies().items() if policy.needs_workflow))


def sweep(services: Services, now: datetime, depths: dict[str, QueueDepth]) -> SweepReport:
    """Two passes with a budget each, so that jobs waiting for a checkpoint (old ``updated_at``, many for a
    day) never hide a stuck job of a plain type behind them: plain types first, then workflow types."""
    settings = services.settings
    limit = stuck_after_seconds(settings)
    cutoff = iso(now - timedelta(seconds=limit))
    report = SweepReport()
    workflows = workflow_job_types()
    repository = OperationsRepository()
    passes = [repository.in_progress_changed_before(cutoff, exclude_types=workflows)]
    if workflows:
        passes.append(repository.in_progress_changed_before(cutoff, only_types=workflows))
    for candidates in passes:
        for examined, summary in enumerate(candidates):
            if examined >= settings.sweeper_max_jobs_per_run:
                logger.info("sweeper budget spent for this run", extra={"limit": settings.sweeper_max_jobs_per_run})
                break
            report.examined += 1
            _sweep_candidate(services, summary.id, cutoff, limit, depths, report)
    report.checkpoints_expired = _expire_checkpoints(services, iso(now))
    return report


def _sweep_candidate(
    services: Services, job_id: str, cutoff: str, limit: int, depths: dict[str, QueueDepth], report: SweepReport
) -> None:
    job = services.jobs.get(job_id)
    if job is None or job.status != JobStatus.IN_PROGRESS or job.updated_at >= cutoff:
        return  # it moved on since the index was read
    try:
        _sweep_job(services, job, cutoff, limit, depths, report)
    except Conflict:
        logger.info("job moved on while it was swept", extra={"job_id": job.id})
    except Exception:
        logger.exception("sweeping a job failed", extra={"job_id": job.id})


def _sweep_job(
    services: Services, job: Job, cutoff: str, limit: int, depths: dict[str, QueueDepth], report: SweepReport
) -> None:
    if policy_for(job.job_type).needs_workflow:
        _sweep_workflow_job(services, job, cutoff, limit, report)
        return
    if job.dispatched_attempt < job.attempt:
        _redispatch(services, job, depths, report)
        return
    answered_at = _answered_at(services, job)
    if answered_at is not None:
        if answered_at < cutoff:
            _revalidate(services, job, depths, report)
        return
    _fail(services, job, limit, report)


def _sweep_workflow_job(services: Services, job: Job, cutoff: str, limit: int, report: SweepReport) -> None:
    """A job with checkpoints belongs to its Step Functions execution, whose every step has a timeout that
    reports back: the sweeper only fails it when even those have long passed (a dead execution)."""
    checkpoints = services.checkpoints.for_job(job.id)
    if any(c.status == CheckpointStatus.PENDING for c in checkpoints):
        _wait(report, job, "waits for a checkpoint decision")
        return
    answered_at = _answered_at(services, job)
    last_activity = max([job.updated_at, *(c.updated_at for c in checkpoints), *([answered_at] if answered_at else [])])
    if last_activity >= cutoff:
        return
    if last_activity >= _shift(cutoff, -VALIDATE_TIMEOUT_SECONDS):
        _wait(report, job, "its workflow's own step timeouts have not all passed yet")
        return
    _fail(services, job, limit + VALIDATE_TIMEOUT_SECONDS, report)


def _fail(services: Services, job: Job, seconds: int, report: SweepReport) -> None:
    reason = f"no result within {seconds} s (sweeper)"
    apply(services.jobs, job, JobEvent.FAIL, reason, actor=ACTOR, response={"error": reason})
    logger.warning("stuck job failed", extra={"job_id": job.id, "attempt": job.attempt})
    report.failed.append(job.id)
    events.job_swept("failed")


def _redispatch(services: Services, job: Job, depths: dict[str, QueueDepth], report: SweepReport) -> None:
    high = job.priority >= services.settings.high_priority_threshold
    queue = "execute-high" if high else "execute"
    if depths.get(queue, QueueDepth()).visible > 0:
        _wait(report, job, f"its attempt was never dispatched, but the {queue} queue holds messages")
        return
    services.dispatcher.start(job)
    message = f"sweeper: attempt {job.attempt} was never sent to the agent; its execute message was sent again"
    services.jobs.add_log(make_log(job, LogKind.ADMIN_ACTION, message, actor=ACTOR))
    logger.warning("stuck job re-dispatched", extra={"job_id": job.id, "attempt": job.attempt})
    report.redispatched.append(job.id)
    events.job_swept("redispatched")


def _revalidate(services: Services, job: Job, depths: dict[str, QueueDepth], report: SweepReport) -> None:
    validate = depths.get("validate", QueueDepth())
    if validate.visible or validate.in_flight:
        _wait(report, job, "the agent answered; the validate queue is still busy")
        return
    services.dispatcher.request_validation(job)
    message = f"sweeper: attempt {job.attempt} was answered but never judged; validation requested again"
    services.jobs.add_log(make_log(job, LogKind.ADMIN_ACTION, message, actor=ACTOR))
    logger.warning("stuck job sent to the judge again", extra={"job_id": job.id, "attempt": job.attempt})
    report.revalidated.append(job.id)
    events.job_swept("revalidated")


def _answered_at(services: Services, job: Job) -> str | None:
    """When the agent answered the job's current attempt, if it did."""
    answers = [
        log.created_at
        for log in services.jobs.logs(job.id)
        if log.status == LogKind.AGENT_RESPONSE and log.attempt == job.attempt
    ]
    return max(answers) if answers else None


def _shift(timestamp: str, seconds: int) -> str:
    return iso(parse_time(timestamp) + timedelta(seconds=seconds))


def _wait(report: SweepReport, job: Job, why: str) -> None:
    logger.info(f"stuck-looking job left alone: {why}", extra={"job_id": job.id})
    report.waiting.append(job.id)


def _expire_checkpoints(services: Services, now_iso: str) -> int | None:
    """Expires checkpoints past ``expiresAt`` that the state machine missed (the checkpoint domain's job)."""
    expire = _expire_overdue()
    if expire is None:
        # TODO: drop this branch once agent_jobs.domain.checkpoints.expire_overdue exists everywhere.
        logger.debug("checkpoint expiry skipped: domain.checkpoints.expire_overdue is not available")
        return None
    try:
        return int(expire(services, now_iso))
    except Exception:
        logger.exception("expiring overdue checkpoints failed")
        return None


def _expire_overdue() -> Callable[[Services, str], int] | None:
    try:
        module = importlib.import_module("agent_jobs.domain.checkpoints")
    except ImportError:
        return None
    found = getattr(module, "expire_overdue", None)
    return found if callable(found) else None
