"""Job and job-log entities and the job API's request models."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from typing_extensions import TypedDict

from agent_jobs.models.base import (
    ID_PATTERN,
    ApiModel,
    DynamoFloat,
    JsonInt,
    OptionalJsonInt,
    RequestModel,
    json_size,
)
from agent_jobs.models.tags import MAX_TAGS, TAG_RULE, TagText, checked_tags

MAX_INPUT_BYTES = 64 * 1024
MAX_RESULT_BYTES = 256 * 1024
MAX_TEXT = 10_000
JOB_TYPE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
NOT_BLANK = r"\S"  # a text that is only whitespace (" ", "\n", "\u2028") says nothing: 400, not a job named ""
MAX_DEADLINE_SECONDS = 30 * 24 * 3600  # a job's deadlineSeconds: at most 30 days
DEFAULT_PASS_SCORE = 0.7  # the judge's score a pass needs, unless the job sets passScore (DESIGN.md §18)
VARIABLE_NAME = r"[A-Za-z_][A-Za-z0-9_]{0,63}"  # a template's {{variable}} (DESIGN.md §16)
MAX_VARIABLES = 64  # variables one template may have, and one create request may give
# A create request's template variables: names to text (substituted literally, never re-expanded)
Variables = Annotated[
    dict[Annotated[str, StringConstraints(pattern=f"^{VARIABLE_NAME}$")], Annotated[str, Field(max_length=MAX_TEXT)]],
    Field(max_length=MAX_VARIABLES),
    WithJsonSchema(
        {
            "type": "object",
            "maxProperties": MAX_VARIABLES,
            "patternProperties": {f"^{VARIABLE_NAME}$": {"type": "string", "maxLength": MAX_TEXT}},
            "additionalProperties": False,
        }
    ),
]


class JobStatus(StrEnum):
    PENDING = "PENDING"
    ASSIGNED = "ASSIGNED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    REJECTED = "REJECTED"
    RESUBMISSION_REQUIRED = "RESUBMISSION_REQUIRED"
    CANCELLED = "CANCELLED"  # terminal: cancelled by its owner or an admin (DESIGN.md §14)


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
    AGENT_ACCEPTED = "AGENT_ACCEPTED"  # an async agent answered 202: the job waits for its callback
    AGENT_CALLBACK = "AGENT_CALLBACK"  # a callback that changed no status: progress, or one refused (stale, late)
    VALIDATION = "VALIDATION"
    CHECKPOINT = "CHECKPOINT"
    ADMIN_ACTION = "ADMIN_ACTION"


class JobUsage(TypedDict):
    """What the judge's calls for one job cost, added up (validation, retries, chunks, auto-assign, re-checks)."""

    promptTokens: int
    completionTokens: int
    costUsd: float


TERMINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.REJECTED, JobStatus.CANCELLED})


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
    pass_score: float = Field(default=DEFAULT_PASS_SCORE, ge=0, le=1)
    usage: JobUsage | None = None
    created_at: str
    updated_at: str
    version: int = 0
    dispatched_attempt: int = Field(default=0, exclude=True)  # execute idempotency mark, internal
    # the current attempt's lease (DESIGN.md §14): stamped when the execute step claims it; queue time never counts
    claimed_at: str | None = None
    deadline: str | None = None
    resent_attempt: int = Field(default=0, exclude=True)  # the attempt the sweeper's re-send count is about
    resends: int = Field(default=0, exclude=True)  # sweeper re-sends of that attempt's lost message (bounded)
    # async agents (DESIGN.md §14): the attempt that answered 202, the attempt answered by callback, the last
    # progress report ({attempt, progress, message, at}); the owner's limit on the whole job
    waiting_attempt: int = Field(default=0, exclude=True)
    answered_attempt: int = Field(default=0, exclude=True)
    progress_report: dict[str, Any] | None = Field(default=None, exclude=True)
    deadline_seconds: int | None = None
    tags: list[str] = Field(default_factory=list)  # canonical key:value, set once at creation (models/tags.py)
    template_id: str | None = None  # the template it was created from (DESIGN.md §16)

    @property
    def waiting_for(self) -> str | None:
        """``"agent"`` while an async agent works on the current attempt (it answered 202, no result yet)."""
        waiting = self.waiting_attempt == self.attempt > self.answered_attempt
        return "agent" if waiting and self.status == JobStatus.IN_PROGRESS else None

    @property
    def current_progress(self) -> dict[str, Any]:
        """The current attempt's last progress report (empty when it sent none)."""
        report = self.progress_report or {}
        return report if report.get("attempt") == self.attempt else {}

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
        progress = self.current_progress
        body["waitingFor"] = self.waiting_for
        body["progress"] = progress.get("progress")
        body["progressMessage"] = progress.get("message")
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
    tags: list[str] = Field(default_factory=list)


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


def any_text_given(*names: str) -> dict[str, Any]:
    """JSON Schema for "at least one of these members is a string": present and not null (``required`` alone lets
    ``"description": null`` through, which the model refuses)."""
    return {"anyOf": [{"required": [name], "properties": {name: {"type": "string"}}} for name in names]}


class CreateJobRequest(RequestModel):
    """Accepts seed 002's ``name/description/acceptanceCriteria`` and seed 004's
    ``jobType/taskDescription/inputData/priority`` shapes, or a mix."""

    model_config = ConfigDict(  # the document says what _one_description checks
        json_schema_extra=any_text_given("description", "taskDescription", "templateId")
    )

    name: str | None = Field(default=None, min_length=1, max_length=200, pattern=NOT_BLANK)
    description: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT, pattern=NOT_BLANK)
    task_description: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT, pattern=NOT_BLANK)
    acceptance_criteria: str = Field(default="", max_length=MAX_TEXT)
    job_type: str = Field(default="simple-task", pattern=JOB_TYPE_PATTERN)
    input_data: dict[str, Any] = Field(default_factory=dict)
    priority: JsonInt = Field(default=5, ge=1, le=10)
    agent_id: str | None = Field(default=None, min_length=1, max_length=64)
    inputs: dict[str, Any] | None = None
    auto_assign: bool = True
    auto_resubmit: bool = True
    max_attempts: OptionalJsonInt = Field(default=None, ge=1, le=10)
    pass_score: DynamoFloat = Field(default=DEFAULT_PASS_SCORE, ge=0, le=1)
    deadline_seconds: OptionalJsonInt = Field(
        default=None, ge=1, le=MAX_DEADLINE_SECONDS, description="past this many seconds after creation: FAILED"
    )
    tags: list[TagText] = Field(
        default_factory=list,
        max_length=MAX_TAGS,
        description=f"up to {MAX_TAGS} tags ({TAG_RULE}; spaces after the colon are dropped, a repeated tag "
        "is kept once); filter with GET /api/jobs?tag=key:value",
    )
    webhook_url: str | None = Field(
        default=None,
        min_length=1,
        max_length=2048,
        description="https URL told of this job's events (DESIGN.md §15), signed with your default webhook secret "
        "(made on first use and then in this answer's webhookSecret, once)",
    )
    template_id: str | None = Field(
        default=None,
        pattern=ID_PATTERN,
        description="create from this template (GET /api/templates): its body with `variables` filled in, then "
        "this request's own members over it (a member given here replaces the template's whole)",
    )
    variables: Variables | None = Field(
        default=None, description="the template's {{variable}} values: text, filled in literally, never re-expanded"
    )

    @field_validator("input_data", "inputs")
    @classmethod
    def _limit_json(cls, value: Any, info: ValidationInfo) -> Any:
        return _check_json_size(value, MAX_INPUT_BYTES, to_camel(info.field_name or "inputData"))

    @field_validator("tags")
    @classmethod
    def _canonical_tags(cls, value: list[str]) -> list[str]:
        return checked_tags(value)

    @model_validator(mode="after")
    def _one_description(self) -> CreateJobRequest:
        if not (self.description or self.task_description or self.template_id):
            raise ValueError("description (or taskDescription) is required")
        if self.variables is not None and not self.template_id:
            raise ValueError("variables are filled into a template: give templateId too")
        return self

    @property
    def text(self) -> str:
        return self.description or self.task_description or ""

    @property
    def title(self) -> str:
        lines = self.text.strip().splitlines()  # empty when every character is whitespace to Python
        return self.name or (lines[0][:200] if lines else "") or "job"


class AssignRequest(RequestModel):
    agent_id: str = Field(min_length=1, max_length=64)
    inputs: dict[str, Any] | None = None

    @field_validator("inputs")
    @classmethod
    def _limit_json(cls, value: Any) -> Any:
        return _check_json_size(value, MAX_INPUT_BYTES, "inputs")


class ReasonRequest(RequestModel):
    reason: str = Field(min_length=1, max_length=2000)


class ForceCompleteRequest(RequestModel):
    reason: str = Field(min_length=1, max_length=2000)
    result: Any = None

    @field_validator("result")
    @classmethod
    def _limit_json(cls, value: Any) -> Any:
        return _check_json_size(value, MAX_RESULT_BYTES, "result")


class OptionalReasonRequest(RequestModel):
    reason: str | None = Field(default=None, max_length=2000)
