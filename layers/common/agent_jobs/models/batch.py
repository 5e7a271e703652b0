"""Batch create (DESIGN.md §16): many create bodies in one request, one result per body."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from agent_jobs.models.base import RequestModel
from agent_jobs.models.envelopes import OPEN, Envelope, ErrorDetail, JobView

MAX_BATCH = 100


class BatchCreateRequest(RequestModel):
    jobs: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description="up to 100 POST /api/jobs bodies (templateId and variables too), each checked and created on "
        "its own: one that fails never keeps the others from being created",
    )


class BatchItemResult(BaseModel):
    model_config = OPEN
    index: int = Field(description="the body's position in `jobs`")
    status: int = Field(description="201, or what POST /api/jobs would answer for this body alone (400, 404, ...)")
    job: JobView | None = None
    error: ErrorDetail | None = None
    webhook_secret: str | None = Field(default=None, description="as on POST /api/jobs: made on first use, once")


class BatchResults(Envelope):
    results: list[BatchItemResult] = Field(description="one per body, in the order of `jobs`")
