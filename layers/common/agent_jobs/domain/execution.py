"""The execute step (seeds 000/001): send the job to its agent, log both sides, hand it to the judge.

Idempotent: the attempt is claimed with a conditional write before the agent is called, so a
redelivered message never calls the agent twice for the same attempt. The claim is the attempt's
**lease** (DESIGN.md §14): it stamps ``claimedAt`` and the ``deadline`` by which the attempt must have
answered; the sweeper fails only attempts whose lease expired, so time spent queued never counts.

Nothing that goes wrong after the claim may vanish: a redelivery of a claimed attempt is dropped, so a
failure either gives the claim back (the agent was never called: the redelivery runs the attempt) or
settles the job with the real reason (the agent was called, or this was the message's last delivery).

Before the claim the attempt takes its slots (``domain/concurrency.py``): a place in one of the invocations its
user may run in, and one of its agent's ``maxConcurrency`` slots. A message that finds either full is not
failed: :func:`execute` answers :class:`~agent_jobs.domain.concurrency.Deferred` and the message waits.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from agent_jobs.domain import concurrency, events
from agent_jobs.domain.async_attempts import callback_url, park
from agent_jobs.domain.concurrency import Deferred, Hold, UserGate
from agent_jobs.domain.lifecycle import apply, make_log
from agent_jobs.domain.policies import Step, policy_for
from agent_jobs.domain.transitions import JobEvent
from agent_jobs.errors import AgentCallError, Conflict
from agent_jobs.integrations import workflow
from agent_jobs.integrations.agent_client import RETRY_AFTER_CAP_SECONDS, AgentTarget, call_agent
from agent_jobs.models.agents import Agent, AgentMode, AgentStatus
from agent_jobs.models.base import parse_time, utc_now
from agent_jobs.models.jobs import Job, JobStatus, LogKind
from agent_jobs.models.messages import StepMessage
from agent_jobs.observability import logger
from agent_jobs.services import Services
from agent_jobs.settings import Settings

if TYPE_CHECKING:  # httpx is imported where it is used: a cold start that does not need it skips it
    import httpx

FINISH_MARGIN_SECONDS = 10.0  # kept back from the function's remaining time: store the answer, hand it on


def agent_request(job: Job, settings: Settings) -> dict[str, Any]:
    """The body an agent receives (DESIGN.md §5; ``callbackUrl``: where an async agent reports, §14)."""
    return {
        "jobId": job.id,
        "attempt": job.attempt,
        "jobType": job.job_type,
        "description": job.description,
        "acceptanceCriteria": job.acceptance_criteria,
        "input": job.inputs_for_agent or {},
        "feedback": job.feedback,
        "callbackUrl": callback_url(settings, job),
    }


def call_deadline(remaining_millis: int) -> float:
    """The ``time.monotonic()`` instant by which an agent call must be over: the invocation's end minus the
    time needed to record what happened."""
    return time.monotonic() + remaining_millis / 1000 - FINISH_MARGIN_SECONDS


def lease_seconds(agent: Agent, settings: Settings, call_seconds: float) -> float:
    """How long a claimed attempt may take before the sweeper calls it dead: every try at the agent's
    timeout plus the longest Retry-After waits between them, but never beyond what this invocation can
    spend on the call (``call_seconds``), plus the margin."""
    per_try = min(agent.timeout_seconds, settings.agent_max_timeout_seconds)
    retries = settings.agent_max_retries
    every_try = per_try * (retries + 1) + RETRY_AFTER_CAP_SECONDS * retries
    return max(0.0, min(every_try, call_seconds)) + settings.stuck_job_margin_seconds


def current_job(services: Services, message: StepMessage) -> Job | None:
    """The job if ``message`` is about its current, running attempt; else None (stale or duplicate). A stale
    checkpoint message (its job finished meanwhile) ends its wait."""
    job = services.jobs.get(message.job_id)
    if job is None or job.status != JobStatus.IN_PROGRESS or job.attempt != message.attempt:
        logger.info("stale step message ignored", extra={"job_id": message.job_id, "kind": message.kind})
        if message.task_token and job is not None and job.status != JobStatus.IN_PROGRESS:
            workflow.report_failure(message.task_token, "JobNotRunning", f"job is {job.status}")
        return None
    return job


@dataclass
class _Progress:
    """How far a claimed attempt got: decides whether a failure may give the claim back."""

    agent_called: bool = False
    parked: bool = False  # an async agent accepted the attempt: its agent slot stays held until it settles


async def execute(
    services: Services,
    client: httpx.AsyncClient,
    message: StepMessage,
    *,
    deadline: float,
    last_try: bool = False,
    gate: UserGate | None = None,
) -> Deferred | None:
    """Runs the message's attempt. ``deadline``: the ``time.monotonic()`` instant by which the agent call must
    be over (:func:`call_deadline`); ``last_try``: SQS moves the message to its DLQ if this delivery fails;
    ``gate``: the invocation's per-user fairness (None: no user limit). Answers :class:`Deferred` when the
    attempt must wait for its user or its agent (nothing was written for it), else None."""
    job = await asyncio.to_thread(current_job, services, message)
    if job is None:
        return None
    if job.dispatched_attempt >= job.attempt:
        logger.info("duplicate execute message: attempt already sent", extra={"job_id": job.id})
        return None
    try:  # before the claim: a throttle here only costs a redelivery
        agent = await asyncio.to_thread(services.agents.get, job.assigned_agent_id or "")
    except Exception as exc:
        if not last_try:
            raise
        await asyncio.to_thread(_fail, services, job, f"reading the agent failed: {_describe(exc)}")
        return None
    if agent is None or agent.status != AgentStatus.ACTIVE:
        await asyncio.to_thread(_fail, services, job, f"agent {job.assigned_agent_id} is not active")
        return None
    if gate is not None and not await gate.admit(job.user_id):
        return Deferred(f"user {job.user_id} has calls running in {gate.capacity} execute invocations")
    lease = lease_seconds(agent, services.settings, deadline - time.monotonic())
    hold = await asyncio.to_thread(concurrency.acquire_agent_slot, agent, job, lease)
    if hold is None:
        return Deferred(f"agent {agent.id} has {agent.max_concurrency} calls in flight (maxConcurrency)")
    claimed = await asyncio.to_thread(_claim, services, job, lease)
    if claimed is None:
        if hold.fresh:  # taken for a duplicate: the attempt's own delivery holds (or held) another
            await asyncio.to_thread(concurrency.release, hold)
        return None
    progress = _Progress()
    try:
        await _run(services, client, claimed, agent, deadline, progress, hold)
    except Exception as exc:
        await asyncio.to_thread(_settle_unexpected, services, claimed, exc, progress, last_try)
    finally:
        if not progress.parked:  # the call is over (answered, failed or never made): the agent slot frees now
            await asyncio.to_thread(concurrency.release, hold)
    return None


async def _run(
    services: Services,
    client: httpx.AsyncClient,
    job: Job,
    agent: Agent,
    deadline: float,
    progress: _Progress,
    hold: Hold,
) -> None:
    payload = agent_request(job, services.settings)
    target = AgentTarget(
        agent.id,
        agent.endpoint_url,
        agent.secret,
        agent.timeout_seconds,
        agent.output_schema,
        accepts_async=agent.mode == AgentMode.ASYNC,
    )
    progress.agent_called = True
    try:
        answer = await call_agent(
            client,
            target,
            payload,
            settings=services.settings,
            message_id=f"{job.id}-{job.attempt}",
            deadline=deadline,
        )
    except AgentCallError as exc:
        events.agent_called(job.job_type, latency_ms=None, ok=False)
        await asyncio.to_thread(_fail, services, job, f"agent call failed: {exc}", payload)
        return
    events.agent_called(job.job_type, latency_ms=answer.latency_ms, ok=True)
    if answer.accepted:  # an async agent took it: the job waits for its callback, holding no Lambda
        progress.parked = await asyncio.to_thread(_park, services, job, agent, hold)
        return
    await asyncio.to_thread(_hand_to_judge, services, job, payload, answer.output, answer.latency_ms)


def _park(services: Services, job: Job, agent: Agent, hold: Hold) -> bool:
    """Parks the accepted attempt, its agent slot kept until the end of its run. Whether the slot stays held:
    not when the attempt is already over (its callback was faster, or a cancel came first) — then it frees now.
    A cancel between the read below and its own write leaves the slot held until the end of the run."""
    kept = hold.slot is None or concurrency.keep_for_run(hold, agent, job.claimed_at)
    park(services, job, agent, datetime.now(UTC))
    if hold.slot is None or not kept:
        return kept
    now = services.jobs.get(job.id)
    return (
        now is not None
        and now.status == JobStatus.IN_PROGRESS
        and now.attempt == job.attempt
        and now.waiting_for == "agent"
    )


def _claim(services: Services, job: Job, lease: float) -> Job | None:
    claimed_at = utc_now()
    deadline = _later(claimed_at, lease)
    try:
        return services.jobs.claim_dispatch(job, claimed_at=claimed_at, deadline=deadline)
    except Conflict:
        logger.info("duplicate execute message: attempt already sent", extra={"job_id": job.id})
        return None


def _settle_unexpected(services: Services, job: Job, exc: Exception, progress: _Progress, last_try: bool) -> None:
    """A failure after the claim: give the claim back while the agent was never called and the message will
    come again; otherwise FAIL the job with the real reason. When even that fails, give the claim back and
    re-raise, so the message's redelivery (or its DLQ) still settles the job."""
    reason = f"execute step failed: {_describe(exc)}"
    if not progress.agent_called and not last_try:
        _release(services, job)
        raise exc
    try:
        _fail(services, job, reason)
    except Exception:
        logger.exception("settling a failed attempt failed; the claim is given back", extra={"job_id": job.id})
        _release(services, job)
        raise exc from None


def _release(services: Services, job: Job) -> None:
    try:
        services.jobs.release_dispatch(job)
    except Conflict:
        logger.info("job moved on before its claim could be given back", extra={"job_id": job.id})


def _fail(services: Services, job: Job, reason: str, payload: Any = None) -> None:
    try:
        apply(services.jobs, job, JobEvent.FAIL, reason, request=payload, response={"error": reason})
    except Conflict:
        logger.info("job moved on before it could be failed", extra={"job_id": job.id})


def _hand_to_judge(
    services: Services,
    job: Job,
    payload: Any,
    output: dict[str, Any],
    latency_ms: float,
) -> None:
    services.jobs.add_log(
        make_log(
            job,
            LogKind.AGENT_RESPONSE,
            f"agent answered in {latency_ms:.0f} ms",
            agent_id=job.assigned_agent_id,
            request=payload,
            response=output,
        ).model_copy(update={"latency_ms": round(latency_ms, 1)})
    )
    hand_to_judge(services, job)


def hand_to_judge(services: Services, job: Job) -> None:
    """The attempt's answer is stored: it goes to the validate queue, or first to a human review when the job
    type checks the agent's output before judging it (its wait starts). The same for a sync answer and an async
    agent's completion callback (whose attempt then gives its agent slot back: it is no longer in flight)."""
    if job.answered_attempt == job.attempt:  # answered by callback (a sync answer gave its slot back already)
        concurrency.release_attempt(job)
    after = policy_for(job.job_type).after_answer()
    if after.step == Step.CHECKPOINT and after.stage:
        services.dispatcher.start_checkpoint_wait(job, after.stage)
    else:
        services.dispatcher.request_validation(job)


def _later(timestamp: str, seconds: float) -> str:
    moment = parse_time(timestamp) + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}"[:500] if text else type(exc).__name__
