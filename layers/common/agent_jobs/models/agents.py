"""Agent entity and the registry's request models. The signing secret is write-only."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from jsonschema import SchemaError
from jsonschema.validators import validator_for
from pydantic import Field, field_validator

from agent_jobs.models.base import ApiModel, json_size
from agent_jobs.models.jobs import JOB_TYPE_PATTERN

MAX_SCHEMA_BYTES = 32 * 1024


class AgentStatus(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


def _check_schema(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if json_size(value) > MAX_SCHEMA_BYTES:
        raise ValueError(f"schema is larger than {MAX_SCHEMA_BYTES // 1024} KB")
    try:
        validator_for(value).check_schema(value)
    except SchemaError as exc:
        raise ValueError(f"not a valid JSON Schema: {exc.message}") from exc
    return value


class Agent(ApiModel):
    id: str
    name: str
    description: str = ""
    job_types: list[str] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list)
    endpoint_url: str
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    timeout_seconds: float = 30.0
    status: AgentStatus = AgentStatus.ACTIVE
    secret: str = Field(default="", exclude=True, repr=False)  # never serialized
    created_at: str
    updated_at: str
    version: int = Field(default=0, exclude=True)

    def fits(self, job_type: str) -> bool:
        return job_type in self.job_types or not self.job_types


class AgentFields(ApiModel):
    """Fields an admin may set; every one optional so PUT can update a part."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    job_types: list[str] | None = Field(default=None, max_length=50)
    skills: list[str] | None = Field(default=None, max_length=100)
    endpoint_url: str | None = Field(default=None, min_length=8, max_length=2048)
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    timeout_seconds: float | None = Field(default=None, gt=0, le=120)
    status: AgentStatus | None = None
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
