"""The bodies an async agent POSTs to its ``callbackUrl`` (DESIGN.md §14), one model per ``status``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, field_validator

from agent_jobs.models.base import DynamoFloat, RequestModel, json_size
from agent_jobs.models.jobs import MAX_RESULT_BYTES

MAX_MESSAGE = 2000


class WorkingCallback(RequestModel):
    """A heartbeat: how far the agent got (0 to 1) and what it is doing. Moves the attempt's lease."""

    status: Literal["working"]
    progress: DynamoFloat | None = Field(default=None, ge=0, le=1)
    message: str | None = Field(default=None, max_length=MAX_MESSAGE)


class CompletedCallback(RequestModel):
    """The attempt's output: checked against the agent's outputSchema, then judged as a sync answer is."""

    status: Literal["completed"]
    output: dict[str, Any]

    @field_validator("output")
    @classmethod
    def _limit(cls, value: dict[str, Any]) -> dict[str, Any]:
        if json_size(value) > MAX_RESULT_BYTES:
            raise ValueError(f"output is larger than {MAX_RESULT_BYTES // 1024} KB")
        return value


class FailedCallback(RequestModel):
    """The agent gave up: the attempt (and the job) is FAILED with its reason."""

    status: Literal["failed"]
    error: str = Field(min_length=1, max_length=MAX_MESSAGE)


AgentCallback = Annotated[WorkingCallback | CompletedCallback | FailedCallback, Field(discriminator="status")]
CALLBACK = TypeAdapter(AgentCallback)


class CallbackEnvelope(BaseModel):
    """The answer to a callback the platform took (``applied`` false: a duplicate, changed nothing)."""

    success: Literal[True]
    applied: bool
    message: str
