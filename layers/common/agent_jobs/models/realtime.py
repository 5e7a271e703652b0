"""The WebSocket frames of ``/api/realtime`` (DESIGN.md §15): what a client may send, what it gets back."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, model_validator

from agent_jobs.models.base import ID_PATTERN, RequestModel

MAX_FRAME_BYTES = 4096  # a subscribe frame is a few dozen bytes


class RealtimeScope(StrEnum):
    MINE = "mine"  # every event of the caller's own jobs
    ALL = "all"  # admins: every job's events
    CHECKPOINTS = "checkpoints"  # admins: every checkpoint event


ADMIN_SCOPES = frozenset({RealtimeScope.ALL, RealtimeScope.CHECKPOINTS})


class SubscribeFrame(RequestModel):
    """``{"action": "subscribe", "jobId": "…"}`` or ``{"action": "subscribe", "scope": "mine"}``."""

    action: Literal["subscribe"]
    job_id: str | None = Field(default=None, pattern=ID_PATTERN, max_length=128)
    scope: RealtimeScope | None = Field(default=None, strict=False)

    @model_validator(mode="after")
    def _one_target(self) -> SubscribeFrame:
        if (self.job_id is None) == (self.scope is None):
            raise ValueError("give exactly one of jobId and scope")
        return self


def error_frame(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"code": code, "message": message}}


def subscribed_frame(frame: SubscribeFrame) -> dict[str, Any]:
    target: dict[str, Any] = {"jobId": frame.job_id} if frame.job_id else {"scope": str(frame.scope)}
    return {"type": "subscribed", **target}
