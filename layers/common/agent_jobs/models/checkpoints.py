"""Checkpoint entity: a human-approval wait of a job (seed 004), and the bodies of the decisions on it
(DESIGN.md §14). The task token never leaves the store."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from agent_jobs.models.base import ApiModel, RequestModel

MAX_DECISION_TEXT = 4000  # a comment, feedback or reason: what a reviewer writes, and what the agent receives
NOT_BLANK = r"\S"


class CheckpointStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    CHANGES_REQUESTED = "CHANGES_REQUESTED"  # the job went back to its agent as the next attempt
    CANCELLED = "CANCELLED"  # closed undecided: its job was cancelled


class Checkpoint(ApiModel):
    id: str
    job_id: str
    user_id: str
    job_type: str
    stage: str
    status: CheckpointStatus = CheckpointStatus.PENDING
    data: Any = None
    attempt: int = 0
    # every decision (approve, reject, request changes, the job's cancel, expiry) says who and when …
    decided_by: str | None = None
    decided_at: str | None = None
    # … and its text: one field per kind of decision, so none is mistaken for another
    comment: str | None = None  # approve (optional)
    feedback: str | None = None  # request changes: what the agent is told
    rejection_reason: str | None = None  # reject
    cancel_reason: str | None = None  # the job was cancelled (its reason, when given)
    approved_by: str | None = None  # seed 004's names for an approval, kept
    approved_at: str | None = None
    rejected_by: str | None = None
    delivered_at: str | None = None  # when Step Functions got the decision; None while decided, not delivered
    expires_at: str
    created_at: str
    updated_at: str
    task_token: str = Field(default="", exclude=True, repr=False)  # never serialized
    version: int = 0


class ApproveRequest(RequestModel):
    """``POST /api/admin/agent-checkpoints/{id}``: the body is optional."""

    comment: str | None = Field(default=None, max_length=MAX_DECISION_TEXT)


class RequestChangesRequest(RequestModel):
    """``POST …/{id}/request-changes``: the feedback the agent gets with its next attempt."""

    feedback: str = Field(min_length=1, max_length=MAX_DECISION_TEXT, pattern=NOT_BLANK)
