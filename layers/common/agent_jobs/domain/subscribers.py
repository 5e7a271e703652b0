"""Who is told about events, and how: ``deliver(events)`` is called by the events function with each batch of
job events (DESIGN.md §15), in stream order.

- **Webhooks**: one delivery per (event, interested subscription) — the owner's subscriptions, the admins'
  ``scope: all`` ones and the job's one-off ``webhookUrl`` — written to the deliveries log and queued on the
  webhooks queue in event order. The delivery id is derived from the event and the subscription, so a batch
  delivered twice (a stream retry) queues nothing twice. The webhooks function does the POSTs: nothing here
  waits for a receiver.
- **Real time**: each event is posted to the WebSocket connections listening to it (``domain/realtime.py``),
  here and now (the frame should arrive within a second of the write).

Raising makes the events function retry the batch: only a failure to record or queue a webhook delivery raises
(a real-time frame that cannot be sent is logged and dropped, see ``domain/realtime.py``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from agent_jobs.domain.realtime import RealtimeService, public_body
from agent_jobs.domain.webhooks import job_webhook_id
from agent_jobs.integrations import connections, webhook_queue
from agent_jobs.models.job_events import Event
from agent_jobs.models.webhooks import DeliveryMessage, DeliveryStatus, StoredDelivery, Subscription
from agent_jobs.observability import logger
from agent_jobs.repositories.jobs import JobRepository
from agent_jobs.repositories.realtime import RealtimeRepository
from agent_jobs.repositories.webhooks import ALL_WEBHOOKS, DeliveryRepository, WebhookRepository


def delivery_id(event: Event, subscription_id: str, position: int) -> str:
    """``<event time, digits only><position>_<hash of event and subscription>``: sorts in event order (one write's
    events share its time; ``position`` is the event's place in the batch, the same on a retry), one per pair."""
    moment = "".join(ch for ch in event.created_at if ch.isdigit())[:17]
    digest = hashlib.sha256(f"{event.id}\n{subscription_id}".encode()).hexdigest()[:20]
    return f"{moment}{min(position, 99):02d}_{digest}"


@dataclass
class _Subscribers:
    """The subscriptions a batch's events may go to, each read once per batch."""

    webhooks: WebhookRepository
    by_owner: dict[str, list[Subscription]] = field(default_factory=dict)
    by_job: dict[str, Subscription | None] = field(default_factory=dict)

    def of(self, event: Event) -> list[Subscription]:
        job_id = str(event.data.job.get("id"))
        for owner in (event.user_id, ALL_WEBHOOKS):
            if owner not in self.by_owner:
                self.by_owner[owner] = self.webhooks.of_owner(owner)
        if job_id not in self.by_job:
            self.by_job[job_id] = self.webhooks.get(job_webhook_id(job_id))
        one_off = self.by_job[job_id]
        found = [*self.by_owner[event.user_id], *self.by_owner[ALL_WEBHOOKS]]
        if one_off is not None and one_off.user_id == event.user_id:
            found.append(one_off)
        return [subscription for subscription in found if subscription.wants(event.type.value)]


def queue_webhooks(events: Sequence[Event], webhooks: WebhookRepository, deliveries: DeliveryRepository) -> int:
    """Records and queues the deliveries of ``events``; returns how many were queued."""
    subscribers = _Subscribers(webhooks)
    messages: list[DeliveryMessage] = []
    for position, event in enumerate(events):
        body = json.dumps(public_body(event), separators=(",", ":"), ensure_ascii=False)
        job_id = str(event.data.job.get("id"))
        for subscription in subscribers.of(event):
            delivery = StoredDelivery(
                webhook_id=subscription.id,
                delivery_id=delivery_id(event, subscription.id, position),
                event_id=event.id,
                event_type=event.type.value,
                job_id=job_id,
                payload=body,
                status=DeliveryStatus.PENDING,
                stream=f"{subscription.id}#{job_id}",
                created_at=event.created_at,
                updated_at=event.created_at,
            )
            if deliveries.add(delivery) or _never_tried(deliveries, delivery):
                messages.append(DeliveryMessage(webhook_id=delivery.webhook_id, delivery_id=delivery.delivery_id))
    webhook_queue.enqueue(messages)
    return len(messages)


def _never_tried(deliveries: DeliveryRepository, delivery: StoredDelivery) -> bool:
    """A repeated event whose delivery was recorded but perhaps not queued (the batch failed in between): queue it
    again; the consumer's conditional write keeps a duplicate message from recording two first tries."""
    stored = deliveries.get(delivery.webhook_id, delivery.delivery_id)
    return stored is not None and stored.status is DeliveryStatus.PENDING and stored.attempt_count == 0


def deliver(events: list[Event]) -> None:
    """Tells every subscriber about ``events`` (a batch, in stream order)."""
    if not events:
        return
    from agent_jobs.services import services  # the process's wiring: binds the tables once, not per batch

    settings = services().settings
    queued = queue_webhooks(events, WebhookRepository(), DeliveryRepository())
    frames = 0
    if connections.enabled():
        realtime = RealtimeService(RealtimeRepository(settings.realtime_connection_seconds), JobRepository())
        try:
            frames = realtime.fan_out(events, connections.post)
        except Exception:
            logger.exception("the real-time fan-out failed; its frames for this batch are dropped")
    logger.debug("events delivered", extra={"events": len(events), "webhooks": queued, "frames": frames})
