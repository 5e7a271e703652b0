"""Agent entity and the registry's request models. The signing secret is write-only."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from agent_jobs.models.base import ApiModel, OptionalJsonInt, RequestModel, json_size
from agent_jobs.models.jobs import JOB_TYPE_PATTERN

MAX_SCHEMA_BYTES = 32 * 1024


class AgentStatus(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class AgentMode(StrEnum):
    """How an agent answers (DESIGN.md §14): ``sync`` with its output, ``async`` with 202 Accepted and then
    signed callbacks to the request's ``callbackUrl``."""

    SYNC = "sync"
    ASYNC = "async"


DEFAULT_MAX_RUN_SECONDS = 3600
MAX_RUN_SECONDS = 24 * 3600


def _check_schema(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if json_size(value) > MAX_SCHEMA_BYTES:
        raise ValueError(f"schema is larger than {MAX_SCHEMA_BYTES // 1024} KB")
    from jsonschema import SchemaError  # imported on use: a cold start checks no schema
    from jsonschema.validators import validator_for

    try:
        validator_for(value).check_schema(value)
    except SchemaError as exc:
        raise ValueError(f"not a valid JSON Schema: {exc.message}") from exc
    return value


class AgentCheck(ApiModel):
    """The last onboarding check (DESIGN.md §18): a signed test call with a sample input, the answer checked
    against the agent's outputSchema. An agent whose last check failed is not auto-assigned."""

    passed: bool
    reason: str
    latency_ms: float | None = None
    checked_at: str


class Agent(ApiModel):
    id: str
    name: str
    description: str = ""
    job_types: list[str] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list)
    endpoint_url: str
    cancel_url: str | None = None  # gets a signed POST {jobId, attempt, reason} when one of its jobs is cancelled
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    timeout_seconds: float = 30.0
    status: AgentStatus = AgentStatus.ACTIVE
    max_concurrency: int | None = None  # calls in flight at once; None: no per-agent limit
    mode: AgentMode = AgentMode.SYNC
    max_run_seconds: int = DEFAULT_MAX_RUN_SECONDS  # async: an accepted attempt's longest run (its lease)
    heartbeat_seconds: int | None = None  # async: no callback for this long ends the attempt
    check: AgentCheck | None = None  # the last onboarding check; None: never checked
    secret: str = Field(default="", exclude=True, repr=False)  # never serialized
    created_at: str
    updated_at: str
    version: int = Field(default=0, exclude=True)

    def fits(self, job_type: str) -> bool:
        return job_type in self.job_types or not self.job_types

    @property
    def check_failed(self) -> bool:
        """Its last onboarding check failed (never checked is not failed: agents registered before checks)."""
        return self.check is not None and not self.check.passed

    def card(self) -> AgentCard:
        """What every signed-in user may see: enough to pick an agent, nothing about where or how it runs
        (an endpoint's query string may carry a token)."""
        return AgentCard.model_validate(self.model_dump(include=set(AgentCard.model_fields)))


class AgentCard(ApiModel):
    """An agent as users see it. Admins see the whole :class:`Agent` (never its secret)."""

    model_config = ConfigDict(extra="allow")  # documents the members users get; admins get more
    id: str
    name: str
    description: str = ""
    job_types: list[str] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list)
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None


class AgentFields(RequestModel):
    """Fields an admin may set; every one optional so PUT can update a part."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    job_types: list[str] | None = Field(default=None, max_length=50)
    skills: list[str] | None = Field(default=None, max_length=100)
    endpoint_url: str | None = Field(default=None, min_length=8, max_length=2048)
    cancel_url: str | None = Field(
        default=None,
        min_length=8,
        max_length=2048,
        description="told with a signed POST {jobId, attempt, reason} when a running job of this agent is cancelled",
    )
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    timeout_seconds: float | None = Field(default=None, ge=0.1, le=120)  # ge: DynamoDB stores no 5e-324
    max_concurrency: OptionalJsonInt = Field(default=None, ge=1, le=1000, description="calls in flight at once")
    mode: AgentMode | None = Field(default=None, strict=False, description="sync (default) or async (202 + callbacks)")
    max_run_seconds: OptionalJsonInt = Field(
        default=None, ge=1, le=MAX_RUN_SECONDS, description="async: longest run of an accepted attempt (default 3600)"
    )
    heartbeat_seconds: OptionalJsonInt = Field(
        default=None, ge=1, le=MAX_RUN_SECONDS, description="async: a callback at least this often, or it times out"
    )
    status: AgentStatus | None = Field(default=None, strict=False)
    secret: str | None = Field(default=None, min_length=16, max_length=256, repr=False)

    @field_validator("job_types")
    @classmethod
    def _job_types(cls, value: list[str] | None) -> list[str] | None:
        import re

        for item in value or []:
            if not re.fullmatch(JOB_TYPE_PATTERN, item):
                raise ValueError(f"jobTypes entry {item!r} must match {JOB_TYPE_PATTERN}")
        return value

    @field_validator("skills")
    @classmethod
    def _skills(cls, value: list[str] | None) -> list[str] | None:
        for item in value or []:
            if not 0 < len(item) <= 100:
                raise ValueError("skills entries are 1-100 characters")
        return value

    @field_validator("input_schema", "output_schema")
    @classmethod
    def _schemas(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return _check_schema(value)


class CreateAgentRequest(AgentFields):
    name: str = Field(min_length=1, max_length=200)
    endpoint_url: str = Field(min_length=8, max_length=2048)
    secret: str = Field(min_length=16, max_length=256, repr=False)
