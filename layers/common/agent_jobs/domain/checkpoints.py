"""Human approval (seed 004, DESIGN.md §14). A job whose type has checkpoints runs its execute and validate steps
on the queues like any job; where it reaches a checkpoint (its policy: after the agent's answer or after the judge
passed) our code starts one short Step Functions execution of the wait machine
(``workflow/checkpoint_wait.asl.json``), which raises the checkpoint through the checkpoint queue with a task token.
An admin approves (SendTaskSuccess, with an optional comment; then this module moves the job on itself: the next
checkpoint's wait, the judge, or COMPLETED), rejects (SendTaskFailure, job REJECTED) or requests changes
(SendTaskFailure ending the wait; the job runs again as attempt+1 with the reviewer's feedback, through the execute
queue); cancelling the job closes its PENDING checkpoints as CANCELLED. Every decision records who, when and its
text. No decision by ``expiresAt`` → EXPIRED and the job REJECTED, and a decision after it → 409. A decision is a
conditional write on PENDING, so of two racing different decisions the second gets 409 and sends nothing to Step
Functions; the same decision again answers 200. A decision is stored "not delivered" until Step Functions has it
(and, for an approval, until the job moved on): if the callback still fails after its retries, a retry of the
request or the sweeper (:func:`deliver_decisions`) delivers it — an approval is never lost."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from agent_jobs.domain import events
from agent_jobs.domain.auth import Principal
from agent_jobs.domain.execution import current_job
from agent_jobs.domain.lifecycle import apply, make_log
from agent_jobs.domain.policies import Step, policy_for
from agent_jobs.domain.transitions import JobEvent
from agent_jobs.domain.validation import agent_output
from agent_jobs.errors import Conflict, NotFound
from agent_jobs.integrations import workflow
from agent_jobs.integrations.workflow import CallbackUndelivered
from agent_jobs.models.base import parse_time, utc_now
from agent_jobs.models.checkpoints import Checkpoint, CheckpointStatus
from agent_jobs.models.jobs import Job, JobLog, JobStatus, LogKind
from agent_jobs.models.messages import StepMessage
from agent_jobs.observability import logger
from agent_jobs.repositories.checkpoints import DECIDED
from agent_jobs.repositories.paging import Page
from agent_jobs.services import Services

REJECTED_ERROR = "CheckpointRejected"
EXPIRED_ERROR = "CheckpointExpired"
CHANGES_REQUESTED_ERROR = "CheckpointChangesRequested"  # ends the wait: the attempt is over
CANCELLED_ERROR = "JobCancelled"


def checkpoint_id(job_id: str, attempt: int, stage: str) -> str:
    """Deterministic: a redelivered checkpoint message finds the checkpoint it already raised."""
    return f"{job_id}-{attempt}-{stage}"


def _later(seconds: int) -> str:
    return (parse_time(utc_now()) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _wait_seconds(checkpoint: Checkpoint) -> float:
    return (parse_time(utc_now()) - parse_time(checkpoint.created_at)).total_seconds()


# --- the wait's messages --------------------------------------------------------------------------
def raise_checkpoint(services: Services, message: StepMessage) -> None:
    """Stores a PENDING checkpoint holding the task token, with the agent's output to review."""
    job = current_job(services, message)
    if job is not None:
        _store(services, job, message.stage or "review", message.task_token or "")


def expire_from_workflow(services: Services, message: StepMessage) -> None:
    """The wait timed out: the checkpoint is EXPIRED and the job REJECTED. The wait's timer covers
    the send of its own "checkpoint" message and a standard queue keeps no order, so this notice can come
    first: the checkpoint is then stored here (with no token: its wait is over) and expired, and the late
    "checkpoint" message finds it and raises nothing."""
    stage = message.stage or "review"
    id_ = checkpoint_id(message.job_id, message.attempt, stage)
    found = services.checkpoints.get(id_)
    if found is None:
        job = current_job(services, message)
        if job is None:
            return
        found = _store(services, job, stage, task_token="") or services.checkpoints.get(id_)  # raced: read it
    if found is not None and found.status == CheckpointStatus.PENDING:
        _expire(services, found, notify_workflow=False)


def _store(services: Services, job: Job, stage: str, task_token: str) -> Checkpoint | None:
    """A new PENDING checkpoint of ``job``'s attempt at ``stage``, as stored; None when it already exists (a
    repeat changes nothing)."""
    now = utc_now()
    checkpoint = Checkpoint(
        id=checkpoint_id(job.id, job.attempt, stage),
        job_id=job.id,
        user_id=job.user_id,
        job_type=job.job_type,
        stage=stage,
        data=agent_output(services, job),
        attempt=job.attempt,
        expires_at=_later(services.settings.checkpoint_timeout_seconds),
        created_at=now,
        updated_at=now,
        task_token=task_token,
    )
    try:
        stored = services.checkpoints.create(checkpoint)
    except Conflict:
        logger.info("checkpoint already raised", extra={"checkpoint_id": checkpoint.id})
        return None
    services.jobs.add_log(make_log(job, LogKind.CHECKPOINT, f"waiting for approval at stage {stage}"))
    events.checkpoint_created(checkpoint)
    return stored


def expire_overdue(services: Services, now_iso: str) -> int:
    """Closes PENDING checkpoints past ``expiresAt`` that the workflow did not (sweeper)."""
    timeout = services.settings.checkpoint_timeout_seconds
    created_before = (parse_time(now_iso) - timedelta(seconds=timeout)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    expired = 0
    for checkpoint in services.checkpoints.pending_older_than(created_before):
        if checkpoint.expires_at <= now_iso and _expire(services, checkpoint, notify_workflow=True):
            expired += 1
    return expired


# --- admin decisions ------------------------------------------------------------------------------
def approve(services: Services, principal: Principal, checkpoint_id_: str, comment: str | None = None) -> Checkpoint:
    principal.require_admin()
    now = utc_now()
    changes = {"approved_by": principal.user_id, "approved_at": now, **_decision(principal, now)}
    if comment:
        changes["comment"] = comment
    checkpoint, decided = _decide(services, checkpoint_id_, CheckpointStatus.APPROVED, changes)
    if decided:
        _log_decision(services, checkpoint, principal, f"checkpoint {checkpoint.stage} approved", comment)
        events.checkpoint_decided(checkpoint, "approved", _wait_seconds(checkpoint))
    return _close(services, checkpoint)


def reject(services: Services, principal: Principal, checkpoint_id_: str, reason: str) -> Checkpoint:
    principal.require_admin()
    now = utc_now()
    changes = {"rejected_by": principal.user_id, "rejection_reason": reason, **_decision(principal, now)}
    checkpoint, decided = _decide(services, checkpoint_id_, CheckpointStatus.REJECTED, changes)
    if decided:
        events.checkpoint_decided(checkpoint, "rejected", _wait_seconds(checkpoint))
    return _close(services, checkpoint)


def request_changes(services: Services, principal: Principal, checkpoint_id_: str, feedback: str) -> Checkpoint:
    """Sends the job back to its agent as attempt+1 with ``feedback`` instead of rejecting it for good. Refused
    (409) when the job has no attempt left: the reviewer approves or rejects instead."""
    principal.require_admin()
    checkpoint = _get(services, checkpoint_id_)
    if checkpoint.status == CheckpointStatus.PENDING:
        _require_attempt_left(services, checkpoint)
    now = utc_now()
    changes = {"feedback": feedback, **_decision(principal, now)}
    checkpoint, decided = _decide(services, checkpoint_id_, CheckpointStatus.CHANGES_REQUESTED, changes)
    if decided:
        _log_decision(services, checkpoint, principal, f"checkpoint {checkpoint.stage}: changes requested", feedback)
        events.checkpoint_decided(checkpoint, "changes-requested", _wait_seconds(checkpoint))
    return _close(services, checkpoint)


def cancel_for_job(services: Services, job_id: str, actor: str, reason: str | None) -> list[Checkpoint]:
    """The job was cancelled: its PENDING checkpoints become CANCELLED, and each waiting step is told (a no-op
    when its execution was stopped, the one path when stopping it failed), or — if Step Functions refuses —
    left "decided, not delivered" for the sweeper."""
    now = utc_now()
    closed = []
    for checkpoint in services.checkpoints.for_job(job_id):
        if checkpoint.status != CheckpointStatus.PENDING:
            continue
        changes: dict[str, Any] = {"decided_by": actor, "decided_at": now, "updated_at": now}
        if reason:
            changes["cancel_reason"] = reason
        try:
            cancelled = services.checkpoints.decide(checkpoint, CheckpointStatus.CANCELLED, changes)
        except Conflict:
            continue  # decided a moment ago: that decision meets a job that is no longer running
        events.checkpoint_decided(cancelled, "cancelled", _wait_seconds(checkpoint))
        closed.append(_deliver(services, cancelled))
    return closed


def deliver_decisions(services: Services, limit: int = 100) -> int:
    """Tells Step Functions the decisions it did not get when they were taken (the sweeper, every run);
    how many it now has. Never raises: a checkpoint that fails again waits for the next run."""
    delivered = 0
    try:
        waiting = services.checkpoints.undelivered(limit)
    except Exception:
        logger.exception("reading the undelivered checkpoint decisions failed")
        return 0
    for checkpoint in waiting:
        try:
            delivered += _close(services, checkpoint).delivered_at is not None
        except Exception:
            logger.exception("delivering a checkpoint decision failed", extra={"checkpoint_id": checkpoint.id})
    return delivered


# --- reads ----------------------------------------------------------------------------------------
def list_checkpoints(
    services: Services, principal: Principal, status: CheckpointStatus, limit: int, token: str | None
) -> Page[Checkpoint]:
    principal.require_admin()
    return services.checkpoints.list_by_status(status, limit=limit, token=token)


def detail(
    services: Services, principal: Principal, checkpoint_id_: str
) -> tuple[Checkpoint, Job | None, list[JobLog]]:
    principal.require_admin()
    checkpoint = _get(services, checkpoint_id_)
    job = services.jobs.get(checkpoint.job_id)
    return checkpoint, job, services.jobs.logs(checkpoint.job_id) if job else []


def for_job(services: Services, principal: Principal, job_id: str) -> list[Checkpoint]:
    job = services.job_service.get(principal, job_id)  # owner or admin, else 404
    return services.checkpoints.for_job(job.id)


def to_api(checkpoint: Checkpoint) -> dict[str, Any]:
    body = checkpoint.to_api()
    body["ageSeconds"] = int(_wait_seconds(checkpoint))
    return body


# --- helpers --------------------------------------------------------------------------------------
def _get(services: Services, checkpoint_id_: str) -> Checkpoint:
    checkpoint = services.checkpoints.get(checkpoint_id_)
    if checkpoint is None:
        raise NotFound(f"checkpoint {checkpoint_id_} not found")
    return checkpoint


def _decide(
    services: Services, checkpoint_id_: str, status: CheckpointStatus, changes: dict[str, Any]
) -> tuple[Checkpoint, bool]:
    """The checkpoint with ``status`` taken now (True), or as it was when the same decision was already
    taken (False: a retried request answers 200 and delivers what was not delivered). Conflict when it was
    decided otherwise, or when ``expiresAt`` has passed (then it is expired, as the workflow would)."""
    checkpoint = _get(services, checkpoint_id_)
    now = utc_now()
    try:
        if checkpoint.status == CheckpointStatus.PENDING and checkpoint.expires_at > now:
            return services.checkpoints.decide(checkpoint, status, changes, before=now), True
    except Conflict:
        checkpoint = _get(services, checkpoint_id_)  # another decision won the race, or it just expired
    if checkpoint.status == status:
        return checkpoint, False
    if checkpoint.status == CheckpointStatus.PENDING and checkpoint.expires_at <= now:
        _expire(services, checkpoint, notify_workflow=True)
        raise Conflict(f"checkpoint {checkpoint.id} expired at {checkpoint.expires_at}: it can no longer be decided")
    if checkpoint.status == CheckpointStatus.PENDING:
        raise Conflict("the checkpoint changed while this request ran; reload it and try again")
    raise Conflict(f"{DECIDED} (it is {checkpoint.status})")


def _decision(principal: Principal, now: str) -> dict[str, Any]:
    return {"decided_by": principal.user_id, "decided_at": now, "updated_at": now}


def _log_decision(
    services: Services, checkpoint: Checkpoint, principal: Principal, message: str, text: str | None
) -> None:
    job = services.jobs.get(checkpoint.job_id)
    if job is not None:
        line = f"{message}: {text}" if text else message
        services.jobs.add_log(make_log(job, LogKind.CHECKPOINT, line, actor=principal.user_id))


def _require_attempt_left(services: Services, checkpoint: Checkpoint) -> None:
    job = services.jobs.get(checkpoint.job_id)
    if job is not None and job.attempt >= job.max_attempts:
        raise Conflict(
            f"the job is at attempt {job.attempt} of its maxAttempts {job.max_attempts}: no attempt is left to "
            "send it back to its agent; approve or reject this checkpoint instead"
        )


def _close(services: Services, checkpoint: Checkpoint) -> Checkpoint:
    """What a decided checkpoint does to its job (REJECTED or EXPIRED: the job is REJECTED; CHANGES_REQUESTED:
    the job runs again; each repeated safely), then the decision delivered to its wait (and an approved job
    moved on, once the wait has the approval)."""
    if checkpoint.status == CheckpointStatus.REJECTED:
        reason = f"checkpoint {checkpoint.stage} rejected: {checkpoint.rejection_reason}"
        _reject_job(services, checkpoint, reason, checkpoint.rejected_by or "admin")
    elif checkpoint.status == CheckpointStatus.EXPIRED:
        _reject_job(services, checkpoint, f"checkpoint {checkpoint.stage} expired without a decision", "expiry")
    elif checkpoint.status == CheckpointStatus.CHANGES_REQUESTED:
        _send_back(services, checkpoint)
    return _deliver(services, checkpoint)


def _send_back(services: Services, checkpoint: Checkpoint) -> None:
    """The checkpoint's attempt → attempt+1 with the reviewer's feedback, and that attempt started. Safe to
    repeat (a retried request, the sweeper): the transition happens once (the job's attempt moves on), the
    start again only while the new attempt was not picked up (its execution's name makes it idempotent)."""
    job = services.jobs.get(checkpoint.job_id)
    if job is None or job.status != JobStatus.IN_PROGRESS:
        return
    if job.attempt == checkpoint.attempt:
        message = f"changes requested at checkpoint {checkpoint.stage}, running attempt {job.attempt + 1}"
        try:
            job = apply(
                services.jobs,
                job,
                JobEvent.REQUEST_CHANGES,
                f"{message}: {checkpoint.feedback}",
                changes={"attempt": job.attempt + 1, "feedback": checkpoint.feedback},
                actor=checkpoint.decided_by,
            )
        except Conflict:
            logger.info("job moved on before changes could be requested", extra={"job_id": job.id})
            return
    if job.attempt == checkpoint.attempt + 1 and job.dispatched_attempt < job.attempt:
        services.dispatcher.start(job)


def _continue(services: Services, checkpoint: Checkpoint) -> None:
    """The job goes on past its approved checkpoint, as its policy says: the next checkpoint's wait, the judge,
    or COMPLETED with the agent's output. Safe to repeat (a retried approval, the sweeper): the wait's name makes
    its start idempotent, and a job that moved on is left alone."""
    job = services.jobs.get(checkpoint.job_id)
    if job is None or job.status != JobStatus.IN_PROGRESS or job.attempt != checkpoint.attempt:
        return
    after = policy_for(job.job_type).after_approval(checkpoint.stage)
    if after.step == Step.CHECKPOINT and after.stage:
        services.dispatcher.start_checkpoint_wait(job, after.stage)
    elif after.step == Step.VALIDATE:
        services.dispatcher.request_validation(job)
    else:
        try:
            apply(
                services.jobs,
                job,
                JobEvent.PASS,
                "all checkpoints approved",
                changes={"result": agent_output(services, job)},
            )
        except Conflict:
            logger.info("job moved on before it could be completed", extra={"job_id": job.id})


def _deliver(services: Services, checkpoint: Checkpoint) -> Checkpoint:
    """Sends the decision to the waiting execution (retried by ``integrations.workflow``), moves an approved job
    on, and marks the decision delivered; if Step Functions still refuses, it stays "decided, not delivered"
    (``deliveredAt`` null) and the job waits where it is."""
    if checkpoint.delivered_at is not None:
        return checkpoint
    try:
        if checkpoint.status == CheckpointStatus.APPROVED:
            workflow.report_success(checkpoint.task_token, {"approved": True, "stage": checkpoint.stage})
        elif checkpoint.status == CheckpointStatus.REJECTED:
            workflow.report_failure(checkpoint.task_token, REJECTED_ERROR, checkpoint.rejection_reason or "rejected")
        elif checkpoint.status == CheckpointStatus.EXPIRED:
            workflow.report_failure(checkpoint.task_token, EXPIRED_ERROR, "no decision before expiresAt")
        elif checkpoint.status == CheckpointStatus.CHANGES_REQUESTED:
            workflow.report_failure(checkpoint.task_token, CHANGES_REQUESTED_ERROR, checkpoint.feedback or "")
        elif checkpoint.status == CheckpointStatus.CANCELLED:
            workflow.report_failure(checkpoint.task_token, CANCELLED_ERROR, checkpoint.cancel_reason or "cancelled")
        else:
            return checkpoint
    except CallbackUndelivered:
        logger.warning(
            "checkpoint decided, not delivered: a retry of the decision or the sweeper delivers it",
            extra={"checkpoint_id": checkpoint.id, "job_id": checkpoint.job_id},
        )
        return checkpoint
    if checkpoint.status == CheckpointStatus.APPROVED:
        try:
            _continue(services, checkpoint)
        except Exception:  # the wait has the approval; the job's next step is retried with the delivery
            logger.exception(
                "approved, the job's next step failed: a retry of the decision or the sweeper runs it",
                extra={"checkpoint_id": checkpoint.id, "job_id": checkpoint.job_id},
            )
            return checkpoint
    return services.checkpoints.mark_delivered(checkpoint, utc_now())


def _expire(services: Services, checkpoint: Checkpoint, *, notify_workflow: bool) -> bool:
    """PENDING → EXPIRED and the job REJECTED; ``notify_workflow`` when the wait has not timed out itself."""
    now = utc_now()
    changes = {"updated_at": now} if notify_workflow else {"updated_at": now, "delivered_at": now}
    try:
        decided = services.checkpoints.decide(
            checkpoint, CheckpointStatus.EXPIRED, changes, undelivered=notify_workflow
        )
    except Conflict:
        return False
    _close(services, decided)
    events.checkpoint_decided(decided, "expired", _wait_seconds(checkpoint))
    return True


def _reject_job(services: Services, checkpoint: Checkpoint, message: str, actor: str) -> None:
    job = services.jobs.get(checkpoint.job_id)
    if job is None or job.attempt != checkpoint.attempt:
        return
    try:
        apply(services.jobs, job, JobEvent.REJECT, message, actor=actor)
    except Conflict:
        logger.info("job was not running when its checkpoint closed", extra={"job_id": job.id})
