"""The body of every queue message the platform sends (our functions and the checkpoint wait machine)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MessageKind = Literal[
    "execute",  # execute queues: call the agent
    "validate",  # validate queue: judge the agent's output
    "assign",  # validate queue: auto-assign (the LLM picks an agent)
    "checkpoint",  # checkpoint queue: a checkpoint's wait asks for a human decision (with its task token)
    "checkpoint-expired",  # checkpoint queue: nobody decided in time
]


class StepMessage(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    kind: MessageKind
    job_id: str = Field(alias="jobId", min_length=1, max_length=64)
    attempt: int = 0
    # The job's version when the message was sent (auto-assign): a job that changed since — assigned, then
    # cancelled back to PENDING by its owner — drops the message. Absent in older messages: not checked.
    version: int | None = Field(default=None, ge=0)
    task_token: str | None = Field(default=None, alias="taskToken", repr=False)  # a checkpoint's wait
    stage: str | None = None
    error: str | None = None
