"""Bulk actions by ids (DESIGN.md §16): the request bodies and the per-id answer.

A bulk body is the single route's body plus ``ids``, so every member keeps the single route's limits (one
place per rule). The ids themselves are checked as a whole before anything is read: 1 to 100, distinct, each
shaped like a path id. A malformed id is a malformed request (400 naming ``ids.<n>``), not an item result:
no table could hold such an id, and the client has a bug to fix rather than an item to retry.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, field_validator

from agent_jobs.models.base import ID_PATTERN, RequestModel
from agent_jobs.models.envelopes import OPEN, Envelope, ErrorDetail, JobView
from agent_jobs.models.jobs import AssignRequest, ForceCompleteRequest, OptionalReasonRequest

MAX_BULK_IDS = 100  # what one request can act on inside the API's 29 s (domain/bulk.py measures and bounds it)

JobId = Annotated[str, Field(pattern=ID_PATTERN, max_length=128)]


class BulkIds(RequestModel):
    ids: list[JobId] = Field(
        min_length=1,
        max_length=MAX_BULK_IDS,
        description=f"1 to {MAX_BULK_IDS} distinct job ids; a malformed id makes the whole request 400",
    )

    @field_validator("ids")
    @classmethod
    def _distinct(cls, ids: list[str]) -> list[str]:
        seen: set[str] = set()
        for job_id in ids:
            if job_id in seen:
                raise ValueError(f"ids must be distinct: {job_id} appears more than once")
            seen.add(job_id)
        return ids


class BulkReasonRequest(BulkIds, OptionalReasonRequest):
    """Cancel or resubmit many jobs: ``{"ids", "reason"?}``."""


class BulkCompleteRequest(BulkIds, ForceCompleteRequest):
    """Force many jobs complete: ``{"ids", "reason", "result"?}`` (the same result for each)."""


class BulkReassignRequest(BulkIds, AssignRequest):
    """Give many jobs to one agent: ``{"ids", "agentId", "inputs"?}``, each checked against its inputSchema."""


class BulkItemResult(BaseModel):
    model_config = OPEN
    id: str
    status: int = Field(description="what the single route would have answered for this id: 200, or 4xx/5xx")
    job: JobView | None = Field(default=None, description="the job after the action (on 200)")
    error: ErrorDetail | None = Field(default=None, description="why this id was not acted on (otherwise)")


class BulkResults(Envelope):
    results: list[BulkItemResult] = Field(description="one per id, in the order of the request's ids")
