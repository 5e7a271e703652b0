"""Auto-assignment (seed 003): shortlist ACTIVE agents that fit the job type, then let the LLM choose
one and fill its inputSchema. The answer is checked with jsonschema before use."""

from __future__ import annotations

import asyncio
from typing import Any

from agent_jobs.domain import events
from agent_jobs.domain.lifecycle import apply
from agent_jobs.domain.schemas import schema_errors
from agent_jobs.domain.transitions import JobEvent
from agent_jobs.errors import Conflict, JudgeUnavailable
from agent_jobs.integrations.pricing import Usage
from agent_jobs.models.agents import Agent, AgentStatus
from agent_jobs.models.jobs import Job, JobStatus, JobUsage
from agent_jobs.models.messages import StepMessage
from agent_jobs.observability import logger
from agent_jobs.services import Services

ACTOR = "auto-assign"


def shortlist(services: Services, job: Job) -> list[Agent]:
    """ACTIVE agents that fit the job type, except those whose last onboarding check failed (DESIGN.md §18)."""
    return [a for a in services.agents.list(AgentStatus.ACTIVE) if a.fits(job.job_type) and not a.check_failed]


def stale(message: StepMessage, job: Job) -> bool:
    """The job changed after the message was sent (e.g. assigned, then cancelled by its owner): the request
    was about a job that is gone, and a new one carries the current version."""
    if message.version is None or message.version == job.version:
        return False
    logger.info("stale auto-assign message ignored", extra={"job_id": job.id, "sent_for_version": message.version})
    return True


async def auto_assign(services: Services, judge_factory: Any, message: StepMessage, *, last_try: bool) -> None:
    job = await asyncio.to_thread(services.jobs.get, message.job_id)
    if job is None or job.status != JobStatus.PENDING or stale(message, job):
        return
    candidates = await asyncio.to_thread(shortlist, services, job)
    if not candidates:
        await asyncio.to_thread(_no_match, services, job, f"no active agent handles job type {job.job_type!r}")
        return
    only = candidates[0]
    if len(candidates) == 1 and not schema_errors(job.input_data, only.input_schema):
        reason = "the only fitting agent; the job's inputData matches its inputSchema"
        await asyncio.to_thread(_assign, services, job, only, job.input_data, reason, None)
        return
    try:
        choice = await judge_factory().choose_agent(job=_job_view(job), candidates=[_candidate(a) for a in candidates])
    except JudgeUnavailable as exc:
        if not last_try:
            raise
        await asyncio.to_thread(_no_match, services, job, f"matching unavailable: {exc}")
        return
    events.judge_called("assign", latency_ms=choice.latency_ms, usage=choice.usage.counts())
    chosen = next(agent for agent in candidates if agent.id == choice.choice.agentId)
    usage = {"model": choice.model, "usage": choice.usage.to_api()}
    job_usage = (Usage.from_api(job.usage) + choice.usage).to_api()  # the job's total includes matching
    await asyncio.to_thread(
        _assign, services, job, chosen, choice.choice.inputs, choice.choice.reason, usage, job_usage
    )


def _assign(
    services: Services,
    job: Job,
    agent: Agent,
    inputs: dict[str, Any],
    reason: str,
    usage: Any,
    job_usage: JobUsage | None = None,
) -> None:
    try:
        services.job_service.assign_agent(
            job, agent, inputs, ACTOR, JobEvent.ASSIGN, note=reason, usage=usage, job_usage=job_usage
        )
    except Conflict:
        logger.info("job changed while it was matched", extra={"job_id": job.id})


def _no_match(services: Services, job: Job, reason: str) -> None:
    try:
        apply(services.jobs, job, JobEvent.MATCHING_FAILED, reason, actor=ACTOR)
    except Conflict:
        logger.info("job changed while it was matched", extra={"job_id": job.id})


def _job_view(job: Job) -> dict[str, Any]:
    return {
        "name": job.name,
        "description": job.description,
        "jobType": job.job_type,
        "inputData": job.input_data,
        "acceptanceCriteria": job.acceptance_criteria,
    }


def _candidate(agent: Agent) -> dict[str, Any]:
    return {
        "id": agent.id,
        "name": agent.name,
        "description": agent.description,
        "jobTypes": agent.job_types,
        "skills": agent.skills,
        "inputSchema": agent.input_schema or {"type": "object"},
    }
