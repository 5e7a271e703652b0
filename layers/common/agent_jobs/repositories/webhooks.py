"""Webhook subscriptions and their delivery log in DynamoDB (no Scan: a user's subscriptions and the ``scope: all``
ones are one sparse-index Query each; a delivery's turn is one Query of its job's open deliveries)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import PutError
from pynamodb.expressions.update import Action

from agent_jobs.models.webhooks import StoredDelivery, Subscription
from agent_jobs.repositories.paging import Page, decode_cursor, take
from agent_jobs.repositories.records import to_entity
from agent_jobs.repositories.tables import WebhookDeliveryRecord, WebhookRecord
from agent_jobs.repositories.transactions import conditional

ALL_WEBHOOKS = "*ALL*"  # the by_owner partition of admins' scope-all subscriptions (no user id has asterisks)
DELIVERY_LOG_DAYS = 30  # DynamoDB's TTL drops a delivery (and a one-off job webhook) after this


def _expiry(days: int = DELIVERY_LOG_DAYS) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def _subscription(record: WebhookRecord) -> Subscription:
    return to_entity(record, Subscription)


class WebhookRepository:
    def get(self, webhook_id: str) -> Subscription | None:
        try:
            return _subscription(WebhookRecord.get(webhook_id))
        except WebhookRecord.DoesNotExist:
            return None

    def of_owner(self, owner: str) -> list[Subscription]:
        """A user's listed subscriptions (or, with ``ALL_WEBHOOKS``, the scope-all ones), oldest first."""
        ids = [key.id for key in WebhookRecord.by_owner.query(owner)]
        found = {record.id: record for record in WebhookRecord.batch_get(ids)} if ids else {}
        return [_subscription(found[i]) for i in ids if i in found]

    def count_of_owner(self, owner: str) -> int:
        return int(WebhookRecord.by_owner.count(owner))

    def create(self, subscription: Subscription, owner: str | None, *, expires_days: int | None = None) -> bool:
        """Writes a new subscription; False when one with its id exists (a default secret or a job's one-off
        made by a racing request: the caller reads that one)."""
        values: dict[str, Any] = subscription.model_dump(exclude={"version", "secret"}, exclude_none=True)
        values = {name: getattr(value, "value", value) for name, value in values.items()}
        record = WebhookRecord(owner=owner, secret=subscription.secret, **values)
        if expires_days is not None:
            record.expires_at = _expiry(expires_days)
        try:
            record.save(condition=WebhookRecord.id.does_not_exist())
        except PutError as exc:
            if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def update(self, subscription: Subscription, changes: dict[str, Any], *, owner: str | None) -> Subscription:
        record = WebhookRecord(subscription.id)
        record.version = subscription.version
        stored = {name: getattr(value, "value", value) for name, value in changes.items()}
        actions = [getattr(WebhookRecord, name).set(value) for name, value in stored.items()]
        actions.append(WebhookRecord.owner.set(owner) if owner else WebhookRecord.owner.remove())
        with conditional("the webhook changed while this request ran; try again"):
            record.update(actions=actions)
        return subscription.model_copy(update={**changes, "version": subscription.version + 1})

    def delete(self, subscription: Subscription) -> None:
        with conditional("the webhook changed while this request ran; try again"):
            record = WebhookRecord(subscription.id)
            record.version = subscription.version  # PynamoDB conditions the delete on it
            record.delete()


class DeliveryRepository:
    def add(self, delivery: StoredDelivery) -> bool:
        """Writes a new delivery; False when this (event, subscription) already has one (a repeated event)."""
        values = delivery.model_dump(exclude_none=True)
        values["status"] = delivery.status.value
        record = WebhookDeliveryRecord(expires_at=_expiry(), **values)
        try:
            record.save(condition=WebhookDeliveryRecord.delivery_id.does_not_exist())
        except PutError as exc:
            if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get(self, webhook_id: str, delivery_id: str) -> StoredDelivery | None:
        try:
            return to_entity(WebhookDeliveryRecord.get(webhook_id, delivery_id, consistent_read=True), StoredDelivery)
        except WebhookDeliveryRecord.DoesNotExist:
            return None

    def page(self, webhook_id: str, *, limit: int, token: str | None) -> Page[StoredDelivery]:
        """A subscription's deliveries, newest first."""
        start = decode_cursor(token, expected={"webhook_id": webhook_id}, key_names={"webhook_id", "delivery_id"})
        records = WebhookDeliveryRecord.query(
            webhook_id, scan_index_forward=False, limit=limit + 1, page_size=limit + 1, last_evaluated_key=start
        )
        items = (to_entity(record, StoredDelivery) for record in records)
        return take(items, limit, lambda d: {"webhook_id": {"S": d.webhook_id}, "delivery_id": {"S": d.delivery_id}})

    def oldest_open(self, stream: str) -> str | None:
        """The delivery id whose turn it is on ``stream`` (one job's deliveries to one subscription)."""
        for key in WebhookDeliveryRecord.by_stream.query(stream, scan_index_forward=True, limit=1):
            return str(key.delivery_id)
        return None

    def save_state(self, delivery: StoredDelivery, *, expected_status: str | None = None) -> None:
        """Writes the delivery's status, attempts and schedule; the stream key goes with ``stream`` None
        (settled). ``expected_status``: only if the stored status is still that one (else Conflict)."""
        actions: list[Action] = [
            WebhookDeliveryRecord.status.set(delivery.status.value),
            WebhookDeliveryRecord.attempts.set(delivery.attempts),
            WebhookDeliveryRecord.attempt_count.set(delivery.attempt_count),
            WebhookDeliveryRecord.updated_at.set(delivery.updated_at),
        ]
        for name in ("first_attempt_at", "next_retry_at", "window_from", "stream"):
            attribute = getattr(WebhookDeliveryRecord, name)
            value = getattr(delivery, name)
            actions.append(attribute.set(value) if value is not None else attribute.remove())
        condition = WebhookDeliveryRecord.delivery_id.exists()
        if expected_status is not None:
            condition &= WebhookDeliveryRecord.status == expected_status
        with conditional("the delivery changed meanwhile"):
            WebhookDeliveryRecord(delivery.webhook_id, delivery.delivery_id).update(
                actions=actions, condition=condition
            )
