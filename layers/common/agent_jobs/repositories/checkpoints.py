"""Checkpoints in DynamoDB. Decisions are conditional on PENDING, so only one of two racing admins wins."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from agent_jobs.models.checkpoints import Checkpoint, CheckpointStatus
from agent_jobs.repositories.paging import Page, decode_cursor, take
from agent_jobs.repositories.records import to_entity, to_record
from agent_jobs.repositories.tables import CheckpointRecord
from agent_jobs.repositories.transactions import conditional

DECIDED = "this checkpoint was already decided by someone else"
UNDELIVERED = "PENDING"  # the ``delivery`` value that puts a decided checkpoint in the sparse by_delivery index


class CheckpointRepository:
    def get(self, checkpoint_id: str) -> Checkpoint | None:
        try:
            return to_entity(CheckpointRecord.get(checkpoint_id, consistent_read=True), Checkpoint)
        except CheckpointRecord.DoesNotExist:
            return None

    def for_job(self, job_id: str) -> list[Checkpoint]:
        ids = [key.id for key in CheckpointRecord.by_job.query(job_id)]
        return list(self._fetch(ids))

    def list_by_status(self, status: CheckpointStatus, *, limit: int, token: str | None) -> Page[Checkpoint]:
        start = decode_cursor(token, expected={"status": status.value}, key_names={"id", "status", "created_at"})
        keys = CheckpointRecord.by_status.query(status.value, last_evaluated_key=start, page_size=limit)
        return take(
            self._fetch_iter(keys, limit),
            limit,
            lambda c: {"id": {"S": c.id}, "status": {"S": c.status.value}, "created_at": {"S": c.created_at}},
        )

    def pending_older_than(self, created_before: str) -> Iterator[Checkpoint]:
        keys = CheckpointRecord.by_status.query(
            CheckpointStatus.PENDING.value, range_key_condition=CheckpointRecord.created_at < created_before
        )
        return self._fetch_iter(keys, 100)

    def create(self, checkpoint: Checkpoint) -> Checkpoint:
        """Stores a new PENDING checkpoint; a redelivered message for the same id changes nothing."""
        with conditional("checkpoint exists"):
            to_record(checkpoint, CheckpointRecord).save(condition=CheckpointRecord.id.does_not_exist())
        return checkpoint.model_copy(update={"version": 1})

    def decide(
        self,
        checkpoint: Checkpoint,
        status: CheckpointStatus,
        changes: dict[str, Any],
        *,
        undelivered: bool = True,
        before: str | None = None,
    ) -> Checkpoint:
        """PENDING → ``status``; raises Conflict when it is no longer PENDING (or, with ``before``, when its
        ``expiresAt`` is not after ``before``). ``undelivered`` keeps it in the by_delivery index until
        :meth:`mark_delivered`: a decision the workflow was not told yet is never lost."""
        record = CheckpointRecord(checkpoint.id)
        record.version = checkpoint.version
        update = {**changes, "status": status.value}
        actions = [getattr(CheckpointRecord, name).set(value) for name, value in update.items()]
        if undelivered:
            actions.append(CheckpointRecord.delivery.set(UNDELIVERED))
        condition = CheckpointRecord.status == CheckpointStatus.PENDING.value
        if before is not None:
            condition &= CheckpointRecord.expires_at > before
        with conditional(DECIDED):
            record.update(actions=actions, condition=condition)
        return checkpoint.model_copy(update={**update, "status": status, "version": checkpoint.version + 1})

    def mark_delivered(self, checkpoint: Checkpoint, at: str) -> Checkpoint:
        """The workflow has the decision: out of the by_delivery index. Any copy may write it (idempotent)."""
        record = CheckpointRecord(checkpoint.id)
        record.version = checkpoint.version  # not a condition here, but PynamoDB then adds 1 instead of setting 1
        record.update(
            actions=[CheckpointRecord.delivered_at.set(at), CheckpointRecord.delivery.remove()],
            condition=CheckpointRecord.id.exists(),
            add_version_condition=False,
        )
        return checkpoint.model_copy(update={"delivered_at": at, "version": checkpoint.version + 1})

    def undelivered(self, limit: int) -> list[Checkpoint]:
        """Decisions the workflow was not told yet, oldest first (at most ``limit``)."""
        keys = CheckpointRecord.by_delivery.query(UNDELIVERED, limit=limit)
        return list(self._fetch_iter(keys, limit))

    def _fetch(self, ids: list[str]) -> Iterator[Checkpoint]:
        if not ids:
            return
        found = {record.id: record for record in CheckpointRecord.batch_get(ids)}
        for checkpoint_id in ids:
            if checkpoint_id in found:
                yield to_entity(found[checkpoint_id], Checkpoint)

    def _fetch_iter(self, keys: Iterator[CheckpointRecord], chunk: int) -> Iterator[Checkpoint]:
        batch: list[str] = []
        for key in keys:
            batch.append(key.id)
            if len(batch) >= min(chunk, 100):
                yield from self._fetch(batch)
                batch = []
        yield from self._fetch(batch)
