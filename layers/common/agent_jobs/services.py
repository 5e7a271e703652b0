"""Wiring: the repositories and services of one process, made on first use (never at import)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from agent_jobs.domain.agents import AgentService
from agent_jobs.domain.jobs import JobService
from agent_jobs.integrations.dispatch import Dispatcher
from agent_jobs.repositories.agents import AgentRepository
from agent_jobs.repositories.checkpoints import CheckpointRepository
from agent_jobs.repositories.jobs import JobRepository
from agent_jobs.repositories.tables import bind_tables
from agent_jobs.settings import Settings, get_settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    jobs: JobRepository
    agents: AgentRepository
    checkpoints: CheckpointRepository
    dispatcher: Dispatcher
    job_service: JobService
    agent_service: AgentService


@lru_cache(maxsize=1)
def services() -> Services:
    settings = get_settings()
    bind_tables(settings)
    jobs, agents, checkpoints = JobRepository(), AgentRepository(), CheckpointRepository()
    dispatcher = Dispatcher(settings)
    return Services(
        settings=settings,
        jobs=jobs,
        agents=agents,
        checkpoints=checkpoints,
        dispatcher=dispatcher,
        job_service=JobService(jobs, agents, checkpoints, dispatcher, settings),
        agent_service=AgentService(agents, settings),
    )


def reset() -> None:
    """Forget every cached setting, client and service (tests, after changing the environment)."""
    import sys

    from agent_jobs.domain import policies
    from agent_jobs.integrations import aws

    judge_factory = sys.modules.get("agent_jobs.integrations.judge_factory")
    if judge_factory is not None:
        judge_factory.judge.clear()
    get_settings.cache_clear()
    aws.client.cache_clear()
    policies._policies.cache_clear()
    services.cache_clear()
