"""The registry and operations models of DESIGN.md §18: audit entries, the A2A import and dead-letter replay
requests, and the answers of those routes (they drive the OpenAPI document)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from agent_jobs.catalog import QUEUES
from agent_jobs.models.agents import AgentCheck
from agent_jobs.models.audit import AuditEntry
from agent_jobs.models.base import ApiModel, OptionalJsonInt, RequestModel, json_size
from agent_jobs.models.envelopes import AgentView, Envelope
from agent_jobs.models.jobs import JOB_TYPE_PATTERN

MAX_CARD_BYTES = 64 * 1024
QUEUE_KEYS = tuple(spec.key for spec in QUEUES)
MAX_REPLAY_IDS = 100


class ImportAgentRequest(RequestModel):
    """An A2A agent card, inline or by URL (fetched through the SSRF guard), and the secret our calls are
    signed with. ``jobTypes``/``timeoutSeconds``/``maxConcurrency`` are ours: a card does not say them."""

    card: dict[str, Any] | None = None
    card_url: str | None = Field(default=None, min_length=8, max_length=2048)
    secret: str = Field(min_length=16, max_length=256, repr=False)
    job_types: list[str] | None = Field(default=None, max_length=50)
    timeout_seconds: float | None = Field(default=None, ge=0.1, le=120)  # as on an agent: DynamoDB stores no 5e-324
    max_concurrency: OptionalJsonInt = Field(default=None, ge=1, le=1000, description="calls in flight at once")

    @field_validator("card")
    @classmethod
    def _card_size(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and json_size(value) > MAX_CARD_BYTES:
            raise ValueError(f"card is larger than {MAX_CARD_BYTES // 1024} KB")
        return value

    @field_validator("job_types")
    @classmethod
    def _job_types(cls, value: list[str] | None) -> list[str] | None:
        for item in value or []:
            if not re.fullmatch(JOB_TYPE_PATTERN, item):
                raise ValueError(f"jobTypes entry {item!r} must match {JOB_TYPE_PATTERN}")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> ImportAgentRequest:
        if (self.card is None) == (self.card_url is None):
            raise ValueError("give exactly one of card or cardUrl")
        return self


class ReplayRequest(RequestModel):
    queue: str = Field(
        description="the queue whose dead letters go back to it", json_schema_extra={"enum": list(QUEUE_KEYS)}
    )
    ids: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(
        default=None, max_length=MAX_REPLAY_IDS, description="message ids (all: omit)"
    )

    @field_validator("queue")
    @classmethod
    def _known_queue(cls, value: str) -> str:
        if value not in QUEUE_KEYS:
            raise ValueError(f"queue must be one of {', '.join(QUEUE_KEYS)}")
        return value


class DeadLetter(ApiModel):
    """A message on a dead-letter queue: what it asked for, which job, and why it is there."""

    message_id: str
    queue: str
    kind: str | None = None
    job_id: str | None = None
    attempt: int | None = None
    receive_count: int | None = None
    sent_at: str | None = None
    job_status: str | None = None
    reason: str | None = Field(default=None, description="the job's last history entry: why it stopped")
    body: Any = None


class ScorecardEnvelope(Envelope):
    scorecard: dict[str, Any] = Field(
        description="window, jobs, attempts, acceptanceRate, latencyMs {p50, p95}, failures by kind, usage, allTime"
    )


class CheckEnvelope(Envelope):
    check: AgentCheck
    agent: AgentView


class ImportEnvelope(Envelope):
    agent: AgentView


class DeadLettersEnvelope(Envelope):
    dead_letters: list[DeadLetter]
    queue: str
    peek: str = Field(description="how the messages were read without being consumed")


class ReplayEnvelope(Envelope):
    replayed: list[DeadLetter]
    not_found: list[str]


class AuditEnvelope(Envelope):
    entries: list[AuditEntry]
    next_token: str | None = None
