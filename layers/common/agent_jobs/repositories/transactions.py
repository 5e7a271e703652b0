"""Conditional writes: a lost race becomes :class:`Conflict`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pynamodb.exceptions import PutError, UpdateError

from agent_jobs.errors import Conflict

_LOST = {"ConditionalCheckFailed", "TransactionConflict"}


def _lost_race(exc: Exception) -> bool:
    reasons = getattr(exc, "cancellation_reasons", None) or []
    if any(reason is not None and reason.code in _LOST for reason in reasons):
        return True
    return getattr(exc, "cause_response_code", None) in {
        "ConditionalCheckFailedException",
        "TransactionConflictException",
    }


@contextmanager
def conditional(conflict_message: str) -> Iterator[None]:
    """Turns a failed condition on a single put/update into Conflict."""
    try:
        yield
    except (PutError, UpdateError) as exc:
        if _lost_race(exc):
            raise Conflict(conflict_message) from exc
        raise
