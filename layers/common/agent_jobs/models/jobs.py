"""Job and job-log entities and the job API's request models."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic.alias_generators import to_camel

from agent_jobs.models.base import ApiModel, json_size

MAX_INPUT_BYTES = 64 * 1024
MAX_RESULT_BYTES = 256 * 1024
MAX_TEXT = 10_000
JOB_TYPE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"


class JobStatus(StrEnum):
    PENDING = "PENDING"
    ASSIGNED = "ASSIGNED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    REJECTED = "REJECTED"
    RESUBMISSION_REQUIRED = "RESUBMISSION_REQUIRED"


class LogKind(StrEnum):
    """What a log entry records: the job statuses of seed 001's JobLogStatus plus trace kinds."""

    PENDING = "PENDING"
    ASSIGNED = "ASSIGNED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    REJECTED = "REJECTED"
    RESUBMISSION_REQUIRED = "RESUBMISSION_REQUIRED"
    CANCELLED = "CANCELLED"
    MATCHING_FAILED = "MATCHING_FAILED"
    AGENT_REQUEST = "AGENT_REQUEST"
    AGENT_RESPONSE = "AGENT_RESPONSE"
    VALIDATION = "VALIDATION"
    CHECKPOINT = "CHECKPOINT"
    ADMIN_ACTION = "ADMIN_ACTION"


TERMINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.REJECTED})


def _check_json_size(value: Any, limit: int, field: str) -> Any:
    if value is not None and json_size(value) > limit:
        raise ValueError(f"{field} is larger than {limit // 1024} KB")
    return value


class Job(ApiModel):
    """A unit of work handed to an agent (seeds 002 and 004 merged)."""

    id: str
    user_id: str
    name: str
    description: str
    acceptance_criteria: str = ""
    job_type: str = "simple-task"
    input_data: dict[str, Any] = Field(default_factory=dict)
    priority: int = 5
    status: JobStatus = JobStatus.PENDING
    result: Any = None
    assigned_agent_id: str | None = None
    agent_inputs: dict[str, Any] | None = None
    attempt: int = 0
    max_attempts: int = 3
    auto_resubmit: bool = True
    feedback: str | None = None
    created_at: str
    updated_at: str
    version: int = 0
    dispatched_attempt: int = Field(default=0, exclude=True)  # execute idempotency mark, internal

    @property
    def inputs_for_agent(self) -> dict[str, Any] | None:
        """What the assigned agent receives: its own inputs, or the job's inputData when they are the same
        (then they are stored once)."""
        if self.agent_inputs is not None:
            return self.agent_inputs
        return self.input_data if self.assigned_agent_id else None

    def to_api(self) -> dict[str, Any]:
        body = super().to_api()
        body["taskDescription"] = self.description  # seed 004's name for the same field
        body["agentInputs"] = self.inputs_for_agent
        return body


class JobSummary(ApiModel):
    """The list view of a job: what the list indexes project."""

    id: str
    user_id: str
    name: str
    job_type: str
    status: JobStatus
    priority: int
    attempt: int = 0
    assigned_agent_id: str | None = None
    created_at: str
    updated_at: str


class JobLog(ApiModel):
    """One step of a job's history (seed 001's JobLog)."""

    id: str
    job_id: str
    status: LogKind
    message: str | None = None
    request_payload: Any = None
    response_payload: Any = None
    agent_id: str | None = None
    attempt: int | None = None
    actor: str | None = None
    created_at: str
    latency_ms: float | None = None  # AGENT_RESPONSE: the agent's answer time (per-agent stats)


class CreateJobRequest(ApiModel):
    """Accepts seed 002's ``name/description/acceptanceCriteria`` and seed 004's
    ``jobType/taskDescription/inputData/priority`` shapes, or a mix."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT)
    task_description: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT)
    acceptance_criteria: str = Field(default="", max_length=MAX_TEXT)
    job_type: str = Field(default="simple-task", pattern=JOB_TYPE_PATTERN)
    input_data: dict[str, Any] = Field(default_factory=dict)
    priority: int = Field(default=5, ge=1, le=10)
    agent_id: str | None = Field(default=None, min_length=1, max_length=64)
    inputs: dict[str, Any] | None = None
    auto_assign: bool = True
    auto_resubmit: bool = True
    max_attempts: int | None = Field(default=None, ge=1, le=10)

    @field_validator("input_data", "inputs")
    @classmethod
    def _limit_json(cls, value: Any, info: ValidationInfo) -> Any:
        return _check_json_size(value, MAX_INPUT_BYTES, to_camel(info.field_name or "inputData"))

    @model_validator(mode="after")
    def _one_description(self) -> CreateJobRequest:
        if not (self.description or self.task_description):
            raise ValueError("description (or taskDescription) is required")
        return self

    @property
    def text(self) -> str:
        return self.description or self.task_description or ""

    @property
    def title(self) -> str:
        return self.name or self.text.strip().splitlines()[0][:200] or "job"


class AssignRequest(ApiModel):
    agent_id: str = Field(min_length=1, max_length=64)
    inputs: dict[str, Any] | None = None

    @field_validator("inputs")
    @classmethod
    def _limit_json(cls, value: Any) -> Any:
        return _check_json_size(value, MAX_INPUT_BYTES, "inputs")


class ReasonRequest(ApiModel):
    reason: str = Field(min_length=1, max_length=2000)


class ForceCompleteRequest(ApiModel):
    reason: str = Field(min_length=1, max_length=2000)
    result: Any = None

    @field_validator("result")
    @classmethod
    def _limit_json(cls, value: Any) -> Any:
        return _check_json_size(value, MAX_RESULT_BYTES, "result")


class OptionalReasonRequest(ApiModel):
    reason: str | None = Field(default=None, max_length=2000)
