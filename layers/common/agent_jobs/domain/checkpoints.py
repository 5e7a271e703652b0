"""Human approval (seed 004). The workflow raises a checkpoint through the checkpoint queue with a task
token; an admin approves (SendTaskSuccess) or rejects (SendTaskFailure, job REJECTED); no decision by
``expiresAt`` → EXPIRED and the job REJECTED. A decision is a conditional write on PENDING, so the
second of two racing decisions gets 409 and sends nothing to Step Functions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from agent_jobs.domain import events
from agent_jobs.domain.auth import Principal
from agent_jobs.domain.execution import current_job
from agent_jobs.domain.lifecycle import apply, make_log
from agent_jobs.domain.transitions import JobEvent
from agent_jobs.domain.validation import agent_output
from agent_jobs.errors import Conflict, NotFound
from agent_jobs.integrations import workflow
from agent_jobs.models.base import parse_time, utc_now
from agent_jobs.models.checkpoints import Checkpoint, CheckpointStatus
from agent_jobs.models.jobs import Job, JobLog, LogKind
from agent_jobs.models.messages import StepMessage
from agent_jobs.observability import logger
from agent_jobs.repositories.paging import Page
from agent_jobs.services import Services

REJECTED_ERROR = "CheckpointRejected"


def checkpoint_id(job_id: str, attempt: int, stage: str) -> str:
    """Deterministic: a redelivered checkpoint message finds the checkpoint it already raised."""
    return f"{job_id}-{attempt}-{stage}"


def _later(seconds: int) -> str:
    return (parse_time(utc_now()) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _wait_seconds(checkpoint: Checkpoint) -> float:
    return (parse_time(utc_now()) - parse_time(checkpoint.created_at)).total_seconds()


# --- the workflow's messages --------------------------------------------------------------------------
def raise_checkpoint(services: Services, message: StepMessage) -> None:
    """Stores a PENDING checkpoint holding the task token, with the agent's output to review."""
    job = current_job(services, message)
    if job is None:
        return
    stage = message.stage or "review"
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
        task_token=message.task_token or "",
    )
    try:
        services.checkpoints.create(checkpoint)
    except Conflict:
        logger.info("checkpoint already raised", extra={"checkpoint_id": checkpoint.id})
        return
    services.jobs.add_log(make_log(job, LogKind.CHECKPOINT, f"waiting for approval at stage {stage}"))
    events.checkpoint_created(checkpoint)


def expire_from_workflow(services: Services, message: StepMessage) -> None:
    """The workflow's wait timed out: the checkpoint is EXPIRED and the job REJECTED."""
    found = services.checkpoints.get(checkpoint_id(message.job_id, message.attempt, message.stage or "review"))
    if found is not None and found.status == CheckpointStatus.PENDING:
        _expire(services, found, notify_workflow=False)


def expire_overdue(services: Services, now_iso: str) -> int:
    """Closes PENDING checkpoints past ``expiresAt`` that the workflow did not (sweeper)."""
    timeout = services.settings.checkpoint_timeout_seconds
    created_before = (parse_time(now_iso) - timedelta(seconds=timeout)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    expired = 0
    for checkpoint in services.checkpoints.pending_older_than(created_before):
        if checkpoint.expires_at <= now_iso and _expire(services, checkpoint, notify_workflow=True):
            expired += 1
    return expired


def finalize(services: Services, message: StepMessage) -> None:
    """Every checkpoint approved: the job is COMPLETED with the agent's output as its result."""
    job = current_job(services, message)
    if job is None:
        return
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


def workflow_timeout(services: Services, message: StepMessage) -> None:
    job = current_job(services, message)
    if job is None:
        return
    try:
        apply(services.jobs, job, JobEvent.FAIL, f"a workflow step timed out ({message.error or 'States.Timeout'})")
    except Conflict:
        logger.info("job moved on before its timeout was handled", extra={"job_id": job.id})


# --- admin decisions ------------------------------------------------------------------------------
def approve(services: Services, principal: Principal, checkpoint_id_: str) -> Checkpoint:
    principal.require_admin()
    checkpoint = _get(services, checkpoint_id_)
    now = utc_now()
    decided = services.checkpoints.decide(
        checkpoint, CheckpointStatus.APPROVED, {"approved_by": principal.user_id, "approved_at": now, "updated_at": now}
    )
    job = services.jobs.get(checkpoint.job_id)
    if job is not None:
        services.jobs.add_log(
            make_log(job, LogKind.CHECKPOINT, f"checkpoint {checkpoint.stage} approved", actor=principal.user_id)
        )
    workflow.report_success(checkpoint.task_token, {"approved": True, "stage": checkpoint.stage})
    events.checkpoint_decided(decided, "approved", _wait_seconds(checkpoint))
    return decided


def reject(services: Services, principal: Principal, checkpoint_id_: str, reason: str) -> Checkpoint:
    principal.require_admin()
    checkpoint = _get(services, checkpoint_id_)
    now = utc_now()
    decided = services.checkpoints.decide(
        checkpoint,
        CheckpointStatus.REJECTED,
        {"rejected_by": principal.user_id, "rejection_reason": reason, "updated_at": now},
    )
    _reject_job(services, checkpoint, f"checkpoint {checkpoint.stage} rejected: {reason}", principal.user_id)
    workflow.report_failure(checkpoint.task_token, REJECTED_ERROR, reason)
    events.checkpoint_decided(decided, "rejected", _wait_seconds(checkpoint))
    return decided


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


def _expire(services: Services, checkpoint: Checkpoint, *, notify_workflow: bool) -> bool:
    try:
        decided = services.checkpoints.decide(checkpoint, CheckpointStatus.EXPIRED, {"updated_at": utc_now()})
    except Conflict:
        return False
    _reject_job(services, checkpoint, f"checkpoint {checkpoint.stage} expired without a decision", "expiry")
    if notify_workflow:
        workflow.report_failure(checkpoint.task_token, "CheckpointExpired", "no decision before expiresAt")
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
