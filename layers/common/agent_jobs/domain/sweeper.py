"""The sweeper (DESIGN.md §7, §14): no job stays IN_PROGRESS forever, and no healthy job is failed.

It runs with the gauges, every minute. An IN_PROGRESS job is in one of four phases, read from its item:

- **queued**: its attempt is not claimed yet (``dispatched_attempt < attempt``). Time spent queued never
  counts (a backlog, a stopped worker): a queued job is never failed. Its message may have been lost (the
  send failed after the status was written), so it is sent again, whatever the queue holds: the execute step
  claims an attempt once. Bounded:
  at most ``sweeper_max_resends`` times per attempt, the k-th once the attempt has been queued
  ``L * 2**k`` (``L`` = :func:`stuck_after_seconds`, 11 min by default).
- **claimed**: the execute step holds its **lease** (``claimedAt`` and ``deadline``, stamped by the claim:
  every try at the agent's timeout, capped by the function's remaining time, plus a margin). Past the
  deadline with no answer, the attempt is dead (the function crashed or was killed): FAILED with the reason.
- **answered, no verdict**: the validate message was lost (a job with checkpoints too: its steps ride the
  same queues). Validation is requested again, bounded and spaced like the re-sends; once they are spent the
  job needs a resubmission ("validation unavailable").
- **waiting for an async agent** (it answered 202, ``waitingFor: "agent"``): the lease is the agent's
  ``maxRunSeconds`` from the claim, or its next heartbeat; past it with no callback: FAILED "no callback
  within N s" (``domain.async_attempts``).
- **at a checkpoint** (a PENDING checkpoint): never touched; the checkpoint's own expiry
  (``domain.checkpoints.expire_overdue``, called last) ends it, and a decision Step Functions missed is
  delivered (``domain.checkpoints.deliver_decisions``: an approval then moves the job on).

Whatever the phase, a job past its owner's ``deadlineSeconds`` is FAILED with that reason first, and its
checkpoint's wait, if any, is ended (``domain.deadlines``).

Cost, bounded as jobs grow: one Query page of at most ``sweeper_max_jobs_per_run`` candidates on the
``by_status`` index (IN_PROGRESS with ``updated_at`` older than the margin as the key condition: only jobs
old enough to need a look, oldest first, never the COMPLETED history). Each run continues from where the
previous one stopped (a cursor kept in one small item), so a dead job behind N waiting ones is reached in
a few runs instead of never. Per candidate: a consistent GetItem, a logs Query for a claimed plain job, a
checkpoints Query for a type with checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from agent_jobs.domain import events
from agent_jobs.domain.checkpoints import expire_overdue
from agent_jobs.domain.deadlines import fail_past_due, past_due
from agent_jobs.domain.gauges import QueueDepth
from agent_jobs.domain.lifecycle import apply, make_log
from agent_jobs.domain.policies import policy_for
from agent_jobs.domain.transitions import JobEvent
from agent_jobs.errors import Conflict
from agent_jobs.models.base import parse_time
from agent_jobs.models.checkpoints import CheckpointStatus
from agent_jobs.models.jobs import Job, JobStatus, LogKind
from agent_jobs.observability import logger
from agent_jobs.repositories.operations import OperationsRepository
from agent_jobs.services import Services
from agent_jobs.settings import Settings

ACTOR = "sweeper"


@dataclass
class SweepReport:
    examined: int = 0
    redispatched: list[str] = field(default_factory=list)
    revalidated: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # stuck-looking but left alone, with a reason logged
    checkpoints_expired: int | None = None
    more: bool = False  # the run stopped at its budget: the next one continues from the cursor

    def to_log(self) -> dict[str, Any]:
        return {
            "examined": self.examined,
            "redispatched": self.redispatched,
            "revalidated": self.revalidated,
            "failed": self.failed,
            "waiting": self.waiting,
            "checkpointsExpired": self.checkpoints_expired,
            "more": self.more,
        }


def stuck_after_seconds(settings: Settings) -> int:
    """Every agent try at its longest, plus the margin: how long before a queued attempt's message is sent
    again, and the lease of an attempt claimed before leases were stamped."""
    return (
        int(settings.agent_max_timeout_seconds * (settings.agent_max_retries + 1)) + settings.stuck_job_margin_seconds
    )


def iso(moment: datetime) -> str:
    """The timestamp format of ``models.base.utc_now`` (sorts as text)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def lease_expired(job: Job, now: datetime, settings: Settings) -> bool:
    """Whether a claimed attempt is past its lease (queue time is not in it: the lease starts at the claim)."""
    if job.deadline:
        return parse_time(job.deadline) <= now
    # claimed before the claim stamped a lease: the claim time is unknown, the start is the best bound
    return parse_time(job.updated_at) + timedelta(seconds=stuck_after_seconds(settings)) <= now


def resends_of(job: Job) -> int:
    """How often the sweeper already re-sent the current attempt's message."""
    return job.resends if job.resent_attempt == job.attempt else 0


def resend_due(job: Job, since: str, now: datetime, settings: Settings) -> bool:
    """The next re-send is due once the message has waited ``L * 2**k`` since ``since`` (k re-sends so far)."""
    wait = stuck_after_seconds(settings) * 2 ** resends_of(job)
    return parse_time(since) + timedelta(seconds=wait) <= now


def sweep(services: Services, now: datetime, depths: dict[str, QueueDepth]) -> SweepReport:
    """One run: a page of candidates from the cursor, each judged by its phase, then the checkpoint expiry.
    ``depths`` (the queues' depths) only explain in the log why a queued job waits."""
    settings = services.settings
    repository = OperationsRepository()
    report = SweepReport()
    start = repository.sweeper_cursor()
    changed_before = iso(now - timedelta(seconds=settings.stuck_job_margin_seconds))
    candidates, following = repository.in_progress_page(
        changed_before, start=start, limit=settings.sweeper_max_jobs_per_run
    )
    for summary in candidates:
        report.examined += 1
        _sweep_candidate(services, summary.id, now, depths, report)
    report.more = following is not None
    repository.save_sweeper_cursor(following, previous=start)
    report.checkpoints_expired = _expire_checkpoints(services, iso(now))
    from agent_jobs.domain.checkpoints import deliver_decisions  # decisions Step Functions missed; never raises

    deliver_decisions(services)
    return report


def _sweep_candidate(
    services: Services, job_id: str, now: datetime, depths: dict[str, QueueDepth], report: SweepReport
) -> None:
    job = services.jobs.get(job_id)
    if job is None or job.status != JobStatus.IN_PROGRESS:
        return  # it moved on since the index was read
    try:
        _sweep_job(services, job, now, depths, report)
    except Conflict:
        logger.info("job moved on while it was swept", extra={"job_id": job.id})
    except Exception:
        logger.exception("sweeping a job failed", extra={"job_id": job.id})


def _sweep_job(services: Services, job: Job, now: datetime, depths: dict[str, QueueDepth], report: SweepReport) -> None:
    settings = services.settings
    if past_due(job, now):
        fail_past_due(services, job, actor=ACTOR)
        report.failed.append(job.id)
        events.job_swept("failed")
        return
    reviews = services.checkpoints.for_job(job.id) if policy_for(job.job_type).has_checkpoints else []
    if any(c.status == CheckpointStatus.PENDING for c in reviews):
        _wait(report, job, "waits for a checkpoint decision")
        return
    if job.dispatched_attempt < job.attempt:
        _queued(services, job, now, depths, report)
        return
    answered_at = _answered_at(services, job)
    if answered_at is None:
        if lease_expired(job, now, settings):
            _fail_expired(services, job, report)
        return
    # a review approved after the answer handed the job on then (to the judge, or to its next wait): count from it
    decided = [c.decided_at for c in reviews if c.attempt == job.attempt and c.decided_at]
    _unjudged(services, job, max([answered_at, *decided]), now, report)


def _queued(services: Services, job: Job, now: datetime, depths: dict[str, QueueDepth], report: SweepReport) -> None:
    settings = services.settings
    if not resend_due(job, job.updated_at, now, settings):
        return
    count = resends_of(job)
    if count >= settings.sweeper_max_resends:
        queue = _execute_queue(services, job)
        held = depths.get(queue, QueueDepth())
        _wait(
            report,
            job,
            f"attempt {job.attempt} not picked up after {count} re-sends ({queue} holds {held.visible} "
            "messages: the worker may be stopped or behind); it waits, queue time never fails a job",
        )
        return
    services.jobs.count_resend(job, count + 1)
    services.dispatcher.start(job)
    waited = int((now - parse_time(job.updated_at)).total_seconds())
    message = (
        f"sweeper: attempt {job.attempt} not picked up after {waited} s; its execute message was sent again "
        f"({count + 1} of {settings.sweeper_max_resends}; a duplicate is dropped by the claim)"
    )
    services.jobs.add_log(make_log(job, LogKind.ADMIN_ACTION, message, actor=ACTOR))
    logger.warning("queued job re-dispatched", extra={"job_id": job.id, "attempt": job.attempt, "resends": count + 1})
    report.redispatched.append(job.id)
    events.job_swept("redispatched")


def _unjudged(services: Services, job: Job, answered_at: str, now: datetime, report: SweepReport) -> None:
    settings = services.settings
    if not resend_due(job, answered_at, now, settings):
        return
    count = resends_of(job)
    if count >= settings.sweeper_max_resends:
        reason = f"validation unavailable: no verdict after {count} validation requests (sweeper)"
        apply(services.jobs, job, JobEvent.REQUIRE_RESUBMISSION, reason, actor=ACTOR, response={"error": reason})
        logger.warning("answered job never judged", extra={"job_id": job.id, "attempt": job.attempt})
        report.failed.append(job.id)
        events.job_swept("failed")
        return
    services.jobs.count_resend(job, count + 1)
    services.dispatcher.request_validation(job)
    message = (
        f"sweeper: attempt {job.attempt} was answered but never judged; validation requested again "
        f"({count + 1} of {settings.sweeper_max_resends})"
    )
    services.jobs.add_log(make_log(job, LogKind.ADMIN_ACTION, message, actor=ACTOR))
    logger.warning("stuck job sent to the judge again", extra={"job_id": job.id, "attempt": job.attempt})
    report.revalidated.append(job.id)
    events.job_swept("revalidated")


def _fail_expired(services: Services, job: Job, report: SweepReport) -> None:
    if job.waiting_for == "agent":
        reason = f"no callback within {_silence(services, job)} s: the agent accepted attempt {job.attempt} (sweeper)"
    else:
        reason = f"no result within {_lease_length(job, services.settings)} s of the claim (sweeper)"
    apply(services.jobs, job, JobEvent.FAIL, reason, actor=ACTOR, response={"error": reason})
    logger.warning("attempt past its lease failed", extra={"job_id": job.id, "attempt": job.attempt})
    report.failed.append(job.id)
    events.job_swept("failed")


def _lease_length(job: Job, settings: Settings) -> int:
    if job.claimed_at and job.deadline:
        return round((parse_time(job.deadline) - parse_time(job.claimed_at)).total_seconds())
    return stuck_after_seconds(settings)


def _silence(services: Services, job: Job) -> int:
    """How long the async agent's lease let it stay silent: from its last report to the deadline; before any
    report, its heartbeat (the lease started at its 202, which the job does not record, a moment after the
    claim) or, when the run's end came first, the time from the claim."""
    if not job.deadline:
        return 0
    deadline = parse_time(job.deadline)
    reported = job.current_progress.get("at")
    if reported:
        return round((deadline - parse_time(reported)).total_seconds())
    from_claim = round((deadline - parse_time(job.claimed_at)).total_seconds()) if job.claimed_at else 0
    agent = services.agents.get(job.assigned_agent_id or "")
    if agent is not None and agent.heartbeat_seconds:
        return min(agent.heartbeat_seconds, from_claim)
    return from_claim


def _execute_queue(services: Services, job: Job) -> str:
    return "execute-high" if job.priority >= services.settings.high_priority_threshold else "execute"


def _answered_at(services: Services, job: Job) -> str | None:
    """When the agent answered the job's current attempt, if it did (one Query on the attempt's entries, however
    many progress reports an async agent sent)."""
    answer = services.jobs.answer(job.id, job.attempt)
    return answer.created_at if answer else None


def _wait(report: SweepReport, job: Job, why: str) -> None:
    logger.info(f"stuck-looking job left alone: {why}", extra={"job_id": job.id})
    report.waiting.append(job.id)


def _expire_checkpoints(services: Services, now_iso: str) -> int | None:
    """Expires checkpoints past ``expiresAt`` that the state machine missed (the checkpoint domain's job)."""
    try:
        return int(expire_overdue(services, now_iso))
    except Exception:
        logger.exception("expiring overdue checkpoints failed")
        return None
