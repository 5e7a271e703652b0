"""Job templates in DynamoDB. A user's list is two Queries of one keys-only index, never a Scan: the user's own
(not shared) templates, then the shared ones, each newest first, under one cursor."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from pynamodb.exceptions import DeleteError

from agent_jobs.errors import BadRequest, Conflict
from agent_jobs.models.templates import Template
from agent_jobs.repositories.paging import Page, decode_cursor, encode_cursor
from agent_jobs.repositories.records import to_entity
from agent_jobs.repositories.tables import TemplateRecord
from agent_jobs.repositories.transactions import conditional

SHARED_TEMPLATES = "*SHARED*"  # the by_listing partition of shared templates (no user id has asterisks)
CHANGED = "the template changed while this request ran; read it again"
_CURSOR_KEYS = {"listing", "created_at", "id"}  # an index page's LastEvaluatedKey: its keys and the table's


def listing_of(template: Template) -> str:
    return SHARED_TEMPLATES if template.shared else template.user_id


def _key(record: Any) -> dict[str, Any]:
    return {"listing": {"S": record.listing}, "created_at": {"S": record.created_at}, "id": {"S": record.id}}


class TemplateRepository:
    def get(self, template_id: str) -> Template | None:
        try:
            return to_entity(TemplateRecord.get(template_id), Template)
        except TemplateRecord.DoesNotExist:
            return None

    def create(self, template: Template) -> Template:
        values = template.model_dump(exclude={"version"})
        record = TemplateRecord(listing=listing_of(template), **values)
        with conditional("a template with this id exists"):
            record.save(condition=TemplateRecord.id.does_not_exist())
        return template.model_copy(update={"version": 1})

    def replace(self, template: Template, changes: dict[str, Any]) -> Template:
        """Writes ``changes`` if nobody changed the template since ``template`` was read (else Conflict)."""
        updated = template.model_copy(update=changes)
        record = TemplateRecord(template.id)
        record.version = template.version
        actions = [getattr(TemplateRecord, name).set(value) for name, value in changes.items()]
        actions.append(TemplateRecord.listing.set(listing_of(updated)))
        with conditional(CHANGED):
            record.update(actions=actions)
        return updated.model_copy(update={"version": template.version + 1})

    def delete(self, template: Template) -> None:
        record = TemplateRecord(template.id)
        record.version = template.version  # PynamoDB conditions the delete on it
        try:
            record.delete()
        except DeleteError as exc:
            if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
                raise Conflict(CHANGED) from exc
            raise

    def visible_page(self, user_id: str, *, limit: int, token: str | None) -> Page[Template]:
        """A page of what ``user_id`` lists: their own templates, then the shared ones. Reads at most
        ``limit + 1`` index keys and one BatchGet."""
        start = decode_cursor(token, expected={}, key_names=_CURSOR_KEYS)
        partitions = [user_id, SHARED_TEMPLATES]
        if start is not None:
            if start["listing"]["S"] not in partitions:  # a cursor of another user's list
                raise BadRequest("nextToken is not a valid page token", field="nextToken")
            partitions = partitions[partitions.index(start["listing"]["S"]) :]
        keys = list(itertools.islice(self._keys(partitions, start, limit + 1), limit + 1))
        page_keys = keys[:limit]
        ids = [key.id for key in page_keys]
        found = {record.id: record for record in TemplateRecord.batch_get(ids)} if ids else {}
        items = [to_entity(found[i], Template) for i in ids if i in found]  # one deleted meanwhile is left out
        next_token = encode_cursor(_key(page_keys[-1])) if len(keys) > limit else None
        return Page(items, next_token)

    @staticmethod
    def _keys(partitions: list[str], start: dict[str, Any] | None, page_size: int) -> Iterator[Any]:
        for index, partition in enumerate(partitions):
            yield from TemplateRecord.by_listing.query(
                partition,
                scan_index_forward=False,
                page_size=page_size,
                last_evaluated_key=start if index == 0 else None,
            )
