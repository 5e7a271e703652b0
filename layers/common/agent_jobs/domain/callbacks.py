"""An async agent's callbacks (DESIGN.md §14): ``POST /api/agent-callbacks/{jobId}/{attempt}``.

Not a user's request: no JWT. The caller proves it is the job's agent by signing the body with **that
agent's own secret** (Standard Webhooks headers, the scheme we sign our calls to it with). Checked in this
order, each refusal changing nothing:

- no such job → 404; a signature that is missing, stale or not the job's agent's → 401;
- a body that is not one of the three callbacks → 400; a completion whose output is off the agent's
  ``outputSchema`` → 400 (the agent may correct it and send again);
- a callback for an attempt that is not the job's current, claimed, unanswered one, or for a job that is no
  longer running → 409, logged on the job; except the same completion delivered twice → 200, applied once.

``working`` stores the progress report and, for an agent with a heartbeat, moves the lease; ``completed``
stores the output as the attempt's answer and hands it to the judge exactly as a sync answer is
(``execution.hand_to_judge``: to the validate queue, or to a review first when the job type asks for one);
``failed`` FAILS the job with the agent's reason.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from agent_jobs.domain.async_attempts import heartbeat_deadline, iso
from agent_jobs.domain.deadlines import fail_past_due, past_due
from agent_jobs.domain.execution import hand_to_judge
from agent_jobs.domain.lifecycle import apply, make_log
from agent_jobs.domain.transitions import JobEvent
from agent_jobs.errors import BadRequest, Conflict, NotFound, Unauthorized
from agent_jobs.integrations.agent_client import output_problem
from agent_jobs.integrations.signing import verify
from agent_jobs.models.agents import Agent
from agent_jobs.models.base import MAX_JSON_DEPTH, TooDeep, loads_bounded
from agent_jobs.models.callbacks import CALLBACK, CompletedCallback, FailedCallback, WorkingCallback
from agent_jobs.models.jobs import Job, JobStatus, LogKind
from agent_jobs.observability import logger
from agent_jobs.repositories.attempts import AttemptRepository
from agent_jobs.services import Services

ACTOR = "agent-callback"


@dataclass(frozen=True)
class CallbackResult:
    applied: bool  # False: a duplicate of what was already applied
    message: str

    def to_api(self) -> dict[str, Any]:
        return {"applied": self.applied, "message": self.message}


def receive(
    services: Services, job_id: str, attempt: int, headers: Mapping[str, str], body: bytes, now: datetime
) -> CallbackResult:
    """Applies one callback, or raises the refusal (NotFound, Unauthorized, BadRequest, Conflict)."""
    job = services.jobs.get(job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    agent = services.agents.get(job.assigned_agent_id or "")
    tolerance = services.settings.callback_tolerance_seconds
    if agent is None or not agent.secret or not verify(agent.secret, headers, body, tolerance_seconds=tolerance):
        logger.warning("agent callback refused: bad or missing signature", extra={"job_id": job_id})
        raise Unauthorized("bad or missing webhook signature: sign the body with the job's agent's secret")
    callback = _parse(body)
    if isinstance(callback, CompletedCallback):
        return _completed(services, job, agent, attempt, callback, now)
    if past_due(job, now):  # the owner's deadline passed before the sweeper came by
        _fail_past_due(services, job)
    _require_open(services, job, attempt, callback.status)
    if isinstance(callback, WorkingCallback):
        return _working(services, job, agent, callback, now)
    return _failed(services, job, callback)


def _parse(body: bytes) -> WorkingCallback | CompletedCallback | FailedCallback:
    try:
        value = loads_bounded(body)
    except TooDeep:
        raise BadRequest(f"the callback is nested deeper than {MAX_JSON_DEPTH} levels", field="body") from None
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("the callback body is not JSON", field="body") from None
    try:
        return CALLBACK.validate_python(value)
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = ".".join(str(part) for part in problem.get("loc", ())[1:]) or "status"
        raise BadRequest(f"{field}: {problem.get('msg', 'invalid')}", field=field) from None


def _require_open(services: Services, job: Job, attempt: int, status: str) -> None:
    """409 (logged on the job) unless ``attempt`` is the running job's claimed, unanswered attempt."""
    why = _not_open(job, attempt)
    if why is None:
        return
    message = f"{status} callback for attempt {attempt} ignored: {why}"
    logger.warning("agent callback refused: " + why, extra={"job_id": job.id, "attempt": attempt, "status": status})
    services.jobs.add_log(make_log(job, LogKind.AGENT_CALLBACK, message, actor=ACTOR, attempt=attempt))
    raise Conflict(message)


def _not_open(job: Job, attempt: int) -> str | None:
    if job.status != JobStatus.IN_PROGRESS:
        return f"the job is {job.status}"
    if attempt != job.attempt:
        return f"the job is on attempt {job.attempt}"
    if job.dispatched_attempt < attempt:
        return "the attempt was not sent to the agent yet"
    if job.answered_attempt >= attempt:
        return "the attempt was already completed"
    return None


def _working(services: Services, job: Job, agent: Agent, callback: WorkingCallback, now: datetime) -> CallbackResult:
    report = {"attempt": job.attempt, "progress": callback.progress, "message": callback.message, "at": iso(now)}
    previous = job.current_progress
    try:
        AttemptRepository().report_progress(job, report, deadline=heartbeat_deadline(agent, job, now))
    except Conflict:
        _require_open(services, _reload(services, job), job.attempt, "working")
        raise
    changed = (previous.get("progress"), previous.get("message")) != (callback.progress, callback.message)
    if changed:  # a bare heartbeat writes no history entry
        shown = f"{round(callback.progress * 100)} %" if callback.progress is not None else "working"
        text = f"agent progress: {shown}" + (f" — {callback.message}" if callback.message else "")
        services.jobs.add_log(make_log(job, LogKind.AGENT_CALLBACK, text, actor=ACTOR, agent_id=agent.id))
    return CallbackResult(True, "progress recorded")


def _completed(
    services: Services, job: Job, agent: Agent, attempt: int, callback: CompletedCallback, now: datetime
) -> CallbackResult:
    if services.jobs.answer(job.id, attempt) is not None:  # a lost validate message is the sweeper's
        return CallbackResult(False, f"attempt {attempt} was already completed; this delivery changed nothing")
    if past_due(job, now):
        _fail_past_due(services, job)
    _require_open(services, job, attempt, "completed")
    problem = output_problem(callback.output, agent.output_schema)
    if problem:
        raise BadRequest(problem, field="output")
    report = {**job.current_progress, "attempt": attempt, "progress": 1.0, "at": iso(now)}
    log = make_log(
        job,
        LogKind.AGENT_RESPONSE,
        "agent completed the attempt by callback",
        agent_id=agent.id,
        response=callback.output,
    )
    try:
        answered = AttemptRepository().record_answer(job, report, log)
    except Conflict:
        if services.jobs.answer(job.id, attempt) is not None:  # a concurrent copy of this completion won
            return CallbackResult(False, f"attempt {attempt} was already completed; this delivery changed nothing")
        _require_open(services, _reload(services, job), attempt, "completed")
        raise
    hand_to_judge(services, answered)
    return CallbackResult(True, "output received; the judge checks it next")


def _failed(services: Services, job: Job, callback: FailedCallback) -> CallbackResult:
    reason = f"agent reported failure: {callback.error}"
    try:
        apply(services.jobs, job, JobEvent.FAIL, reason, actor=ACTOR, response={"error": callback.error})
    except Conflict:
        _require_open(services, _reload(services, job), job.attempt, "failed")
        raise
    return CallbackResult(True, "failure recorded; the job is FAILED")


def _fail_past_due(services: Services, job: Job) -> None:
    with contextlib.suppress(Conflict):  # the job moved on meanwhile: the callback is refused all the same
        fail_past_due(services, job, actor=ACTOR)
    raise Conflict(f"the job's deadline ({job.deadline_seconds} s) passed: the job is FAILED, the callback not applied")


def _reload(services: Services, job: Job) -> Job:
    return services.jobs.get(job.id) or job
