"""The execute step (seeds 000/001): send the job to its agent, log both sides, hand it to the judge.

Idempotent: the attempt is claimed with a conditional write before the agent is called, so a
redelivered message never calls the agent twice for the same attempt.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from agent_jobs.domain import events
from agent_jobs.domain.lifecycle import apply, make_log
from agent_jobs.domain.transitions import JobEvent
from agent_jobs.errors import AgentCallError, Conflict
from agent_jobs.integrations import workflow
from agent_jobs.integrations.agent_client import AgentTarget, call_agent
from agent_jobs.models.agents import AgentStatus
from agent_jobs.models.jobs import Job, JobStatus, LogKind
from agent_jobs.models.messages import StepMessage
from agent_jobs.observability import logger
from agent_jobs.services import Services


def agent_request(job: Job) -> dict[str, Any]:
    """The body an agent receives (DESIGN.md §5)."""
    return {
        "jobId": job.id,
        "attempt": job.attempt,
        "jobType": job.job_type,
        "description": job.description,
        "acceptanceCriteria": job.acceptance_criteria,
        "input": job.inputs_for_agent or {},
        "feedback": job.feedback,
    }


def current_job(services: Services, message: StepMessage) -> Job | None:
    """The job if ``message`` is about its current, running attempt; else None (stale or duplicate)."""
    job = services.jobs.get(message.job_id)
    if job is None or job.status != JobStatus.IN_PROGRESS or job.attempt != message.attempt:
        logger.info("stale step message ignored", extra={"job_id": message.job_id, "kind": message.kind})
        if message.task_token and job is not None and job.status != JobStatus.IN_PROGRESS:
            workflow.report_failure(message.task_token, "JobNotRunning", f"job is {job.status}")
        return None
    return job


async def execute(services: Services, client: httpx.AsyncClient, message: StepMessage) -> None:
    job = await asyncio.to_thread(_claim, services, message)
    if job is None:
        return
    agent = await asyncio.to_thread(services.agents.get, job.assigned_agent_id or "")
    if agent is None or agent.status != AgentStatus.ACTIVE:
        await asyncio.to_thread(_fail, services, job, message, f"agent {job.assigned_agent_id} is not active")
        return
    payload = agent_request(job)
    target = AgentTarget(agent.id, agent.endpoint_url, agent.secret, agent.timeout_seconds, agent.output_schema)
    try:
        answer = await call_agent(
            client, target, payload, settings=services.settings, message_id=f"{job.id}-{job.attempt}"
        )
    except AgentCallError as exc:
        events.agent_called(job.job_type, latency_ms=None, ok=False)
        await asyncio.to_thread(_fail, services, job, message, f"agent call failed: {exc}", payload)
        return
    events.agent_called(job.job_type, latency_ms=answer.latency_ms, ok=True)
    await asyncio.to_thread(_hand_to_judge, services, job, message, payload, answer.output, answer.latency_ms)


def _claim(services: Services, message: StepMessage) -> Job | None:
    job = current_job(services, message)
    if job is None:
        return None
    try:
        return services.jobs.claim_dispatch(job)
    except Conflict:
        logger.info("duplicate execute message: attempt already sent", extra={"job_id": job.id})
        return None


def _fail(services: Services, job: Job, message: StepMessage, reason: str, payload: Any = None) -> None:
    try:
        apply(services.jobs, job, JobEvent.FAIL, reason, request=payload, response={"error": reason})
    except Conflict:
        logger.info("job moved on before it could be failed", extra={"job_id": job.id})
    workflow.report_failure(message.task_token, "AgentFailed", reason)


def _hand_to_judge(
    services: Services,
    job: Job,
    message: StepMessage,
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
    if message.task_token:
        workflow.report_success(message.task_token, {"agentAnswered": True})
    else:
        services.dispatcher.request_validation(job)
