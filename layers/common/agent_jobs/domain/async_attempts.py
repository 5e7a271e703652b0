"""Async agents' attempts (DESIGN.md §14): where the agent calls back, how long an accepted attempt may run, and
parking the job when the agent answers 202.

An accepted attempt holds no Lambda: the job stays IN_PROGRESS with ``waitingFor: "agent"`` and its lease
(``deadline``) becomes ``maxRunSeconds`` from the claim, or — for an agent that declared ``heartbeatSeconds`` —
the next heartbeat, whichever comes first. Every ``working`` callback moves the heartbeat; nothing moves the
end of the run. The sweeper fails the attempt once its lease expired.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from agent_jobs.domain.lifecycle import make_log
from agent_jobs.errors import Conflict
from agent_jobs.models.agents import Agent
from agent_jobs.models.base import parse_time
from agent_jobs.models.jobs import Job, LogKind
from agent_jobs.observability import logger
from agent_jobs.repositories.attempts import AttemptRepository
from agent_jobs.services import Services
from agent_jobs.settings import Settings

CALLBACK_ROUTE = "/api/agent-callbacks/{jobId}/{attempt}"


def callback_url(settings: Settings, job: Job) -> str | None:
    """The absolute URL the agent POSTs its callbacks to (None when no public base URL is configured)."""
    base = (settings.public_api_url or "").rstrip("/")
    if not base:
        return None
    return base + CALLBACK_ROUTE.format(jobId=job.id, attempt=job.attempt)


def iso(moment: datetime) -> str:
    """The timestamp format of ``models.base.utc_now`` (sorts as text)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def async_deadline(agent: Agent, claimed_at: str, now: datetime) -> str:
    """The lease of an accepted attempt at ``now``: the end of its run, or its next heartbeat if sooner."""
    run_ends = parse_time(claimed_at) + timedelta(seconds=agent.max_run_seconds)
    if agent.heartbeat_seconds:
        return iso(min(run_ends, now + timedelta(seconds=agent.heartbeat_seconds)))
    return iso(run_ends)


def heartbeat_deadline(agent: Agent, job: Job, now: datetime) -> str | None:
    """Where a ``working`` callback moves the lease (None: the agent declared no heartbeat, the lease stays)."""
    if not agent.heartbeat_seconds or not job.claimed_at:
        return None
    return async_deadline(agent, job.claimed_at, now)


def park(services: Services, job: Job, agent: Agent, now: datetime) -> None:
    """The agent answered 202: the job waits for its callback, under the async lease. When the agent's
    callback already answered (it can be faster than this write), there is nothing to park."""
    deadline = async_deadline(agent, job.claimed_at or iso(now), now)
    try:
        AttemptRepository().park(job, deadline=deadline)
    except Conflict:
        logger.info("accepted attempt already answered or moved on", extra={"job_id": job.id})
        return
    lease = round((parse_time(deadline) - now).total_seconds())
    message = f"agent accepted attempt {job.attempt} (202); waiting for its callback (lease {lease} s)"
    services.jobs.add_log(make_log(job, LogKind.AGENT_ACCEPTED, message, agent_id=agent.id))
