"""Conditional writes and transactions: a lost race becomes :class:`Conflict`, never a half-write."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

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
def transaction(model: type[Model], conflict_message: str) -> Iterator[TransactWrite]:
    """A TransactWrite on ``model``'s connection; a failed condition raises Conflict."""
    # The model's own cached connection: a new Connection per write would build a botocore client
    # (~50-100 ms) for every transition. ``bind_tables`` drops it when the settings change.
    connection = model._get_connection().connection
    try:
        with TransactWrite(connection=connection) as tx:
            yield tx
    except TransactWriteError as exc:
        if _lost_race(exc):
            raise Conflict(conflict_message) from exc
        raise


@contextmanager
def conditional(conflict_message: str) -> Iterator[None]:
    """Turns a failed condition on a single put/update into Conflict."""
    try:
        yield
    except (PutError, UpdateError) as exc:
        if _lost_race(exc):
            raise Conflict(conflict_message) from exc
        raise
