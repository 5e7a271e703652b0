"""The audit trail: one item per change, newest first by UTC month partition (``AuditRecord``)."""

from __future__ import annotations

from typing import Any

from agent_jobs.models.audit import AuditEntry
from agent_jobs.repositories.paging import Page, decode_cursor, encode_cursor
from agent_jobs.repositories.tables import AuditRecord

MONTHS_SEARCHED = 12  # a page never reads further back than this: an audit list is bounded whatever its age


def month_of(at: str) -> str:
    return at[:7]


def _previous_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


class AuditRepository:
    def add(self, entry: AuditEntry) -> None:
        AuditRecord(
            month_of(entry.at),
            entry.id,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            target=entry.target,
            changes=entry.changes,
        ).save()

    def newest(self, now: str, *, limit: int, token: str | None) -> Page[AuditEntry]:
        """Entries newest first, ``limit`` per page, from this month back at most :data:`MONTHS_SEARCHED`."""
        month, start = month_of(now), None
        if token:
            key = decode_cursor(token, expected={}, key_names={"month", "entry_id"})
            assert key is not None
            month, start = key["month"]["S"], key
        entries: list[AuditEntry] = []
        for _ in range(MONTHS_SEARCHED):
            records = AuditRecord.query(month, scan_index_forward=False, last_evaluated_key=start, page_size=limit + 1)
            for record in records:
                if len(entries) == limit:
                    last = entries[-1]
                    return Page(entries, encode_cursor({"month": {"S": month_of(last.at)}, "entry_id": {"S": last.id}}))
                entries.append(_entry(record))
            month, start = _previous_month(month), None
        return Page(entries, None)


def _entry(record: AuditRecord) -> AuditEntry:
    changes: Any = record.changes
    return AuditEntry(
        id=record.entry_id,
        at=record.at,
        actor=record.actor,
        action=record.action,
        target=record.target,
        changes=changes or {},
    )
