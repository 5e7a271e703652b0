"""Concurrency slots in DynamoDB: one small item per slot, each a lease with its own expiry.

A *pool* (an agent's calls, a user's execute invocations) is one partition of the job_logs table under a key no
job can have (job ids are uuid hex; the sweeper's cursor lives the same way, ``operations.SWEEPER_STATE``):
``~slots#<pool>``, sort keys ``slot#0000`` … ``slot#<capacity-1>``. Taking a slot is one conditional put that
succeeds only if the slot is free or its lease expired, so the count is right under concurrent takers, and a
holder that crashed frees its slot at its ``expires`` without anyone cleaning up. Giving a slot back is one
delete conditional on the holder, so a late release never frees a slot somebody else took since.

Nothing indexes or streams that table's items: a slot costs its own writes and nothing else. The slots have
their own model (and so their own connection) on that table: what befalls the history's writes is not theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection.table import TableConnection
from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.expressions.operand import Path
from pynamodb.models import Model

from agent_jobs.repositories.tables import JobLogRecord

PREFIX = "~slots#"
SLOT = "slot#"
_LOST = "ConditionalCheckFailedException"


@dataclass(frozen=True)
class Slot:
    pool: str
    index: int
    holder: str
    expires: float  # epoch seconds


class SlotRecord(Model):
    """A slot item: the job_logs table's keys (``job_id`` = ``~slots#<pool>``, ``log_id`` = ``slot#<index>``)."""

    class Meta:
        table_name = ""
        region = "us-east-1"
        host: str | None = None
        billing_mode = "PAY_PER_REQUEST"

    job_id = UnicodeAttribute(hash_key=True)
    log_id = UnicodeAttribute(range_key=True)


def _table() -> TableConnection:
    """The slots' connection, bound wherever ``tables.bind_tables`` bound the job_logs table."""
    meta: Any = SlotRecord.Meta
    source: Any = JobLogRecord.Meta
    if (meta.table_name, meta.region, meta.host) != (source.table_name, source.region, source.host):
        meta.table_name, meta.region, meta.host = source.table_name, source.region, source.host
        SlotRecord._connection = None
    return SlotRecord._get_connection()


def _partition(pool: str) -> str:
    return PREFIX + pool


def _sort_key(index: int) -> str:
    return f"{SLOT}{index:04d}"


def _lost(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == _LOST


class SlotRepository:
    def held(self, pool: str) -> list[Slot]:
        """Every slot item of the pool, live or expired (a consistent Query on one small partition)."""
        page = _table().query(_partition(pool), consistent_read=True)
        return [_slot(pool, item) for item in page.get("Items", [])]

    def take(self, slot: Slot, *, now: float) -> bool:
        """Takes ``slot`` for its holder until its ``expires``, if it is free or its lease expired at ``now``."""
        free = Path("holder").does_not_exist() | (Path("expires") < now)
        attributes = {"holder": {"S": slot.holder}, "expires": {"N": repr(slot.expires)}}
        try:
            _table().put_item(_partition(slot.pool), _sort_key(slot.index), attributes=attributes, condition=free)
        except PutError as exc:
            if _lost(exc):
                return False
            raise
        return True

    def extend(self, slot: Slot, expires: float) -> bool:
        """Moves the lease of a slot its holder still holds (False: it was given back or taken over)."""
        try:
            _table().update_item(
                _partition(slot.pool),
                _sort_key(slot.index),
                actions=[Path("expires").set(expires)],
                condition=Path("holder") == slot.holder,
            )
        except UpdateError as exc:
            if _lost(exc):
                return False
            raise
        return True

    def give_back(self, slot: Slot) -> None:
        """Frees ``slot`` if its holder still holds it (already free or taken over: nothing to do)."""
        try:
            _table().delete_item(_partition(slot.pool), _sort_key(slot.index), condition=Path("holder") == slot.holder)
        except DeleteError as exc:
            if not _lost(exc):
                raise


def _slot(pool: str, item: dict[str, Any]) -> Slot:
    index = int(item["log_id"]["S"].removeprefix(SLOT))
    return Slot(pool, index, item.get("holder", {}).get("S", ""), float(item.get("expires", {}).get("N", "0")))
