"""Cancel a job (DESIGN.md §14): ``POST /api/jobs/{id}/cancel`` by its owner or an admin.

On ASSIGNED it keeps seed 003's meaning (the assignment is undone, the job is PENDING again). From PENDING,
IN_PROGRESS (queued, calling its agent, waiting for an async agent or at a checkpoint), RESUBMISSION_REQUIRED
or FAILED the job becomes CANCELLED, which no event leaves (``transitions.py``). The write comes first and
is the cancel; what follows only tidies up and never undoes it:

- the attempt's checkpoint waits (Step Functions executions, one per stage) are stopped;
- its PENDING checkpoints become CANCELLED;
- the agent, if it declared ``cancelUrl``, gets a signed POST (best effort, one short try).

A late agent answer or callback needs nothing here: every step checks that the job is still IN_PROGRESS on
the same attempt (``execution.current_job``) and every settling write is conditional on status and version,
so an answer that arrives after the cancel is logged and changes nothing.
"""

from __future__ import annotations

from agent_jobs.domain import checkpoints
from agent_jobs.domain.auth import Principal
from agent_jobs.domain.lifecycle import apply, make_log
from agent_jobs.domain.policies import policy_for
from agent_jobs.domain.transitions import JobEvent
from agent_jobs.errors import Conflict
from agent_jobs.integrations import workflow
from agent_jobs.integrations.cancel_notice import CancelNotice, notify
from agent_jobs.models.jobs import Job, JobStatus, LogKind
from agent_jobs.observability import logger
from agent_jobs.services import Services
from agent_jobs.workflow.definition import execution_arn

TRIES = 3  # a cancel that loses a race with a step that only moved the job along (a claim, a heartbeat) tries again


def cancel(services: Services, principal: Principal, job_id: str, reason: str | None = None) -> Job:
    """The job cancelled (or, when ASSIGNED, unassigned); 404 for another user's job, 409 when it is finished."""
    job = services.job_service.get(principal, job_id)
    if job.status == JobStatus.ASSIGNED:
        return services.job_service.unassign(principal, job, reason)
    before, cancelled = _write(services, job, principal.user_id, reason)
    _wind_down(services, before, cancelled, principal.user_id, reason)
    return cancelled


def _write(services: Services, job: Job, actor: str, reason: str | None) -> tuple[Job, Job]:
    message = "cancelled" + (f": {reason}" if reason else "")
    for tried in range(1, TRIES + 1):
        try:
            return job, apply(services.jobs, job, JobEvent.CANCEL, message, actor=actor)
        except Conflict:
            fresh = services.jobs.get(job.id)
            if tried == TRIES or fresh is None or fresh.version == job.version:
                raise  # the state refuses it (COMPLETED, REJECTED, CANCELLED), not a race
            job = fresh
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _wind_down(services: Services, before: Job, cancelled: Job, actor: str, reason: str | None) -> None:
    """Stops what was running for the job. Never raises: the job is cancelled whatever happens here."""
    try:
        if before.status == JobStatus.IN_PROGRESS:
            machine = services.settings.checkpoint_state_machine_arn
            for stage in policy_for(before.job_type).stages:  # a wait not started is not there: nothing to stop
                arn = execution_arn(machine, before.id, before.attempt, stage)
                workflow.stop_execution(arn, checkpoints.CANCELLED_ERROR, reason or "the job was cancelled")
        checkpoints.cancel_for_job(services, before.id, actor, reason)
    except Exception:
        logger.exception("stopping a cancelled job's checkpoint waits failed", extra={"job_id": before.id})
    if before.status == JobStatus.IN_PROGRESS:
        _tell_agent(services, cancelled, reason)


def _tell_agent(services: Services, job: Job, reason: str | None) -> None:
    try:
        agent = services.agents.get(job.assigned_agent_id or "")
        if agent is None or not agent.cancel_url:
            return
        notice = CancelNotice(agent.cancel_url, agent.secret, job.id, job.attempt, reason)
        outcome = notify(notice, allow_loopback=services.settings.allow_loopback_http_agents)
        body = {"jobId": job.id, "attempt": job.attempt, "reason": reason}
        services.jobs.add_log(
            make_log(job, LogKind.AGENT_REQUEST, f"cancel notice: {outcome}", agent_id=agent.id, request=body)
        )
    except Exception:
        logger.exception("telling the agent about the cancel failed", extra={"job_id": job.id})
