"""Bulk actions by ids (DESIGN.md §16): one action, many jobs, one result per id.

Each id goes through exactly what its single route runs (``cancellation.cancel``, ``JobService.resubmit``,
``force_complete``, ``reassign``), so ownership (another user's job is 404, untouched), the state machine (409)
and every side effect stay in one place. An item's failure is its own result; it never stops the others.

Bounded time: the API function has 29 s. One item is a handful of DynamoDB calls plus an SQS message or a Step
Functions stop (tens of milliseconds on AWS: 100 items take a few seconds), but a cancel of a running job may
wait up to 3 s for the agent's cancel notice. So an item not started before the function's remaining time minus a
margin (one slow item) answers 503 ``NOT_ATTEMPTED`` instead of the whole request being cut off by the timeout
half-way with no answer: the client sends those ids again.

Items run one after another, not on a thread pool: moto's backends (the tests and the local stack) are not
thread-safe (when a transition was a TransactWriteItems, concurrent ones failed there at random: "dictionary
changed size during iteration", one in four runs of 100 concurrent cancels), and moto's work is CPU under the
GIL, so threads did not make it faster either. Powertools' request state, boto3's default session and PynamoDB's
per-thread connections need no thought this way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from agent_jobs.errors import DomainError
from agent_jobs.models.jobs import Job
from agent_jobs.observability import logger

MARGIN_SECONDS = 5.0  # the slowest single item (a 3 s cancel notice plus its writes) and the answer's way out

Action = Callable[[str], Job]


@dataclass(frozen=True)
class ItemResult:
    id: str
    status: int
    job: Job | None = None
    error: dict[str, Any] | None = None

    def to_api(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "status": self.status}
        if self.job is not None:
            body["job"] = self.job.to_api()
        if self.error is not None:
            body["error"] = self.error
        return body


def deadline_after(remaining_ms: int, *, margin: float = MARGIN_SECONDS) -> float:
    """The ``time.monotonic()`` after which no item starts, from the function's remaining time."""
    return time.monotonic() + remaining_ms / 1000 - margin


def run_each(ids: Sequence[str], action: Action, *, deadline: float) -> list[ItemResult]:
    """``action`` on every id in the order given, one result per id; none starts after ``deadline``."""
    return [_one(job_id, action, deadline) for job_id in ids]


def _one(job_id: str, action: Action, deadline: float) -> ItemResult:
    if time.monotonic() >= deadline:
        return ItemResult(job_id, 503, error=_error("NOT_ATTEMPTED", "not started in time; send this id again"))
    try:
        return ItemResult(job_id, 200, job=action(job_id))
    except DomainError as exc:
        if exc.status_code >= 500:
            logger.exception("a bulk item failed", extra={"job_id": job_id})
        return ItemResult(job_id, exc.status_code, error=_error(exc.code, exc.message, exc.field))
    except Exception:
        logger.exception("a bulk item failed", extra={"job_id": job_id})
        return ItemResult(job_id, 500, error=_error("INTERNAL_ERROR", "this id could not be acted on; try it again"))


def _error(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"code": code, "message": message} | ({"field": field} if field else {})
