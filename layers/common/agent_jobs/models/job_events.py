"""What clients are told (DESIGN.md §15): one event per job transition or checkpoint change.

Produced once per change from the write itself (the tables' streams, ``domain/event_stream.py``), then
published to EventBridge, delivered to webhook subscribers and fanned out to WebSocket subscribers. The
``id`` is derived from the change (the job's id and version, or the checkpoint's id and status), so a
stream record delivered twice makes the same event twice and every consumer can drop the repeat —
receivers de-duplicate by ``webhook-id`` = this id.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from agent_jobs.models.base import ApiModel


class EventType(StrEnum):
    JOB_CREATED = "job.created"
    JOB_STATUS_CHANGED = "job.status_changed"
    JOB_COMPLETED = "job.completed"
    JOB_FAILED = "job.failed"
    JOB_REJECTED = "job.rejected"
    JOB_RESUBMISSION_REQUIRED = "job.resubmission_required"
    JOB_CANCELLED = "job.cancelled"
    JOB_PROGRESS = "job.progress"
    CHECKPOINT_PENDING = "checkpoint.pending"
    CHECKPOINT_DECIDED = "checkpoint.decided"


class EventData(ApiModel):
    job: dict[str, Any] = Field(description="the job's summary after the change (never secrets or payloads)")
    checkpoint: dict[str, Any] | None = Field(default=None, description="checkpoint events: the checkpoint")
    previous_status: str | None = Field(
        default=None, description="the job's (checkpoint events: the checkpoint's) status before the change"
    )


class Event(ApiModel):
    id: str = Field(description="stable per change: the same change always has the same id")
    type: EventType
    created_at: str
    user_id: str = Field(description="the job's owner: who may receive it (admins: anyone's)")
    data: EventData
