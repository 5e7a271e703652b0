"""What the API answers, as models: they drive the OpenAPI document's response schemas (and so what a client
or a fuzzer may rely on). Every view allows members it does not name, so a field added to an entity reaches
clients without breaking the contract; the members named here are always there."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from agent_jobs.models.agents import Agent, AgentCard
from agent_jobs.models.checkpoints import Checkpoint
from agent_jobs.models.jobs import Job, JobLog, JobSummary

OPEN = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class ErrorDetail(BaseModel):
    code: str = Field(description="machine-readable: VALIDATION_ERROR, NOT_FOUND, CONFLICT, ...")
    message: str
    field: str | None = Field(default=None, description="the request member at fault, when there is one")


class ErrorEnvelope(BaseModel):
    """Every failure, whatever its status."""

    success: Literal[False]
    error: ErrorDetail


class JobView(Job):
    model_config = OPEN
    task_description: str | None = Field(default=None, description="seed 004's name for description")


class JobSummaryView(JobSummary):
    model_config = OPEN


class JobLogView(JobLog):
    model_config = OPEN


class CheckpointView(Checkpoint):
    model_config = OPEN
    age_seconds: int | None = Field(default=None, description="seconds since the checkpoint was raised")


class AgentView(Agent):
    """An agent as admins see it (never its secret)."""

    model_config = OPEN


class Envelope(BaseModel):
    model_config = OPEN
    success: Literal[True]


class JobEnvelope(Envelope):
    job: JobView
    message: str | None = None


class JobPage(Envelope):
    jobs: list[JobSummaryView]
    next_token: str | None = Field(default=None, description="pass as ?nextToken= for the next page")


class JobDetailEnvelope(Envelope):
    job: JobView
    logs: list[JobLogView]
    logs_next_token: str | None = Field(default=None, description="GET …/logs?nextToken= for older entries")
    checkpoints: list[CheckpointView]
    timeline: list[dict[str, Any]]


class LogsEnvelope(Envelope):
    logs: list[JobLogView]
    next_token: str | None = Field(default=None, description="pass as ?nextToken= for the older page")


class AgentCardEnvelope(Envelope):
    agent: AgentCard


class AgentCards(Envelope):
    agents: list[AgentCard]


class AgentEnvelope(Envelope):
    agent: AgentView


class Agents(Envelope):
    agents: list[AgentView]


class CheckpointEnvelope(Envelope):
    checkpoint: CheckpointView
    message: str | None = None


class CheckpointPage(Envelope):
    checkpoints: list[CheckpointView]
    next_token: str | None = None


class CheckpointDetailEnvelope(Envelope):
    checkpoint: CheckpointView
    job: JobView | None
    logs: list[JobLogView]


class ValidationEnvelope(Envelope):
    validation: dict[str, Any] = Field(description="the judge's verdict: isValid, score, criteria, feedback")
    job: JobView | None = None


class WorkerEnvelope(Envelope):
    worker: dict[str, Any] = Field(description="isRunning, maxConcurrentJobs, activeJobs, queuedJobs, ...")
    jobs: dict[str, Any] = Field(description="job counts by status")
    message: str | None = None


class HourBucket(BaseModel):
    model_config = OPEN
    hour: str = Field(description="the start of the UTC hour")
    total: int
    by_status: dict[str, int] = Field(description="the jobs created in the hour by the status they are in now")


class JobsPerHour(BaseModel):
    model_config = OPEN
    hours: int = Field(description="how many hourly buckets (?hours=, 1 to 168)")
    start: str = Field(alias="from", description="the start of the oldest bucket")
    to: str = Field(description="when it was read: the last bucket is the current hour so far")
    buckets: list[HourBucket] = Field(description="oldest first, one per hour, empty hours included")
    capped: list[str] | None = Field(default=None, description="statuses whose read stopped at its cap")
    complete_since: str | None = Field(default=None, description="when capped: buckets from here on are whole")


class Percentiles(BaseModel):
    model_config = OPEN
    p50: float | None
    p90: float | None
    p95: float | None
    p99: float | None
    samples: int = Field(description="how many agent answers the figures rest on")


class AgentPercentiles(Percentiles):
    agent_id: str
    name: str | None


class LatencyPercentiles(BaseModel):
    model_config = OPEN
    overall: Percentiles = Field(description="agent answer times (ms) of the window's started jobs")
    by_agent: list[AgentPercentiles]


class AgentStats(BaseModel):
    model_config = OPEN
    agent_id: str
    name: str | None
    jobs: int
    answers: int
    judged: int
    acceptance_rate: float | None = Field(description="verdicts passed / verdicts; None when none")
    median_latency_ms: float | None


class Stats(BaseModel):
    """The members the console's stats tab and charts read; what each one covers: ``domain/stats.py``."""

    model_config = OPEN
    jobs_by_status: dict[str, int]
    jobs_per_hour: JobsPerHour
    latency_percentiles: LatencyPercentiles
    agents: list[AgentStats]


class StatsEnvelope(Envelope):
    stats: Stats
