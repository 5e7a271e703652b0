"""Checkpoint entity: a human-approval wait of a job (seed 004). The task token never leaves the store."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from agent_jobs.models.base import ApiModel


class CheckpointStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


class Checkpoint(ApiModel):
    id: str
    job_id: str
    user_id: str
    job_type: str
    stage: str
    status: CheckpointStatus = CheckpointStatus.PENDING
    data: Any = None
    attempt: int = 0
    approved_by: str | None = None
    approved_at: str | None = None
    rejected_by: str | None = None
    rejection_reason: str | None = None
    expires_at: str
    created_at: str
    updated_at: str
    task_token: str = Field(default="", exclude=True, repr=False)  # never serialized
    version: int = 0
