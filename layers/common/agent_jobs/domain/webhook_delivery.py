"""Delivering one webhook (the webhooks queue's consumer): whose turn it is, one try, what the answer means.

Rules, decided here and nowhere else:

- **Order per job.** A subscription gets one job's events in event order: a delivery whose job has an older
  open (pending or retrying) delivery to the same subscription waits behind it (re-queued until the older one
  settles). So a receiver that is down for an hour gets everything afterwards, in order, and de-duplicates
  repeats by ``webhook-id``. A manual redelivery is not ordered (it is a repeat by definition).
- **Retries.** A timeout, a connect error, 429 or 5xx is tried again after an exponential backoff with jitter
  (``base * 2**(n-1)``, capped, the upper half of it random; a longer ``Retry-After`` wins) until the retry window
  (24 h after the event) runs out: then GAVE_UP, recorded. Any other answer (another 4xx, a redirect, an
  unsafe address) FAILED at once; a 2xx DELIVERED. Every try is one entry of the delivery's attempt log.
- **Off the job's path.** Only this consumer waits for a receiver; the job's own functions never do.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from agent_jobs.errors import Conflict
from agent_jobs.integrations import webhook_queue, webhook_sender
from agent_jobs.models.base import parse_time, utc_now
from agent_jobs.models.webhooks import (
    OPEN_STATUSES,
    Attempt,
    DeliveryMessage,
    DeliveryStatus,
    StoredDelivery,
    attempt_log,
)
from agent_jobs.observability import logger
from agent_jobs.repositories.webhooks import DeliveryRepository, WebhookRepository
from agent_jobs.settings import Settings

WAIT_BEHIND_SECONDS = 2.0  # a delivery whose turn has not come looks again this soon (or at the older one's retry)
_rng = random.SystemRandom()


@dataclass(frozen=True)
class Outcome:
    status: DeliveryStatus
    retry_in_seconds: float | None = None  # RETRYING: the backoff before the next try


def backoff_seconds(failed_tries: int, settings: Settings, rng: random.Random = _rng) -> float:
    """The wait after ``failed_tries`` failed tries: ``base * 2**(n-1)`` capped, its upper half random (jitter)."""
    ceiling = min(settings.webhook_retry_cap_seconds, settings.webhook_retry_base_seconds * 2 ** (failed_tries - 1))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def outcome(
    result: webhook_sender.SendResult,
    *,
    failed_tries: int,
    window_from: datetime,
    now: datetime,
    settings: Settings,
    rng: random.Random = _rng,
) -> Outcome:
    """What one try's result means for the delivery (pure)."""
    if result.delivered:
        return Outcome(DeliveryStatus.DELIVERED)
    if not result.retryable:
        return Outcome(DeliveryStatus.FAILED)
    wait = backoff_seconds(failed_tries, settings, rng)
    if result.retry_after is not None:
        wait = max(wait, min(result.retry_after, settings.webhook_retry_cap_seconds))
    if now + timedelta(seconds=wait) > window_from + timedelta(seconds=settings.webhook_retry_window_seconds):
        return Outcome(DeliveryStatus.GAVE_UP)
    return Outcome(DeliveryStatus.RETRYING, wait)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class DeliveryWorker:
    def __init__(self, webhooks: WebhookRepository, deliveries: DeliveryRepository, settings: Settings) -> None:
        self.webhooks = webhooks
        self.deliveries = deliveries
        self.settings = settings

    def handle(self, message: DeliveryMessage) -> None:
        delivery = self.deliveries.get(message.webhook_id, message.delivery_id)
        if delivery is None or delivery.status not in OPEN_STATUSES:
            return  # settled already: a repeated message
        now = datetime.now(UTC)
        if message.not_before is not None and parse_time(message.not_before) > now + timedelta(seconds=1):
            webhook_queue.enqueue([message], delay_seconds=(parse_time(message.not_before) - now).total_seconds())
            return
        if message.ordered and self._waits_behind(delivery, message, now):
            return
        self._try(delivery, message, now)

    def _waits_behind(self, delivery: StoredDelivery, message: DeliveryMessage, now: datetime) -> bool:
        """True (and looked at again later) while an older delivery of the same job to the same subscription is
        open. The index is eventually consistent: at worst a delivery waits one more round."""
        if delivery.stream is None:
            return False
        head = self.deliveries.oldest_open(delivery.stream)
        if head is None or head >= delivery.delivery_id:
            return False
        older = self.deliveries.get(delivery.webhook_id, head)
        wait = WAIT_BEHIND_SECONDS
        if older is not None and older.next_retry_at is not None:
            wait = max(wait, (parse_time(older.next_retry_at) - now).total_seconds() + 1)
        webhook_queue.enqueue([message], delay_seconds=wait)
        return True

    def _try(self, delivery: StoredDelivery, message: DeliveryMessage, now: datetime) -> None:
        subscription = self.webhooks.get(delivery.webhook_id)
        if subscription is None or not subscription.active or not subscription.url:
            why = "the subscription was deleted" if subscription is None else "the subscription is paused"
            self._settle(delivery, Attempt(at=utc_now(), error=why), Outcome(DeliveryStatus.FAILED), now)
            return
        result = webhook_sender.send(
            subscription.url,
            subscription.secret,
            delivery.payload.encode(),
            message_id=delivery.event_id,
            timeout_seconds=self.settings.webhook_timeout_seconds,
            allow_loopback=self.settings.allow_loopback_http_agents,
        )
        attempt = Attempt(
            at=utc_now(), status_code=result.status_code, latency_ms=result.latency_ms, error=result.error
        )
        decided = outcome(
            result,
            failed_tries=delivery.attempt_count + 1,
            window_from=parse_time(delivery.window_from or delivery.created_at),
            now=now,
            settings=self.settings,
        )
        if self._settle(delivery, attempt, decided, now) and decided.retry_in_seconds is not None:
            not_before = _iso(now + timedelta(seconds=decided.retry_in_seconds))
            retry = message.model_copy(update={"not_before": not_before})
            webhook_queue.enqueue([retry], delay_seconds=decided.retry_in_seconds)

    def _settle(self, delivery: StoredDelivery, attempt: Attempt, decided: Outcome, now: datetime) -> bool:
        """Records the try; False when another consumer recorded one first (this one then stops)."""
        retrying = decided.retry_in_seconds is not None
        updated = delivery.model_copy(
            update={
                "status": decided.status,
                "attempts": attempt_log(delivery.attempts, attempt),
                "attempt_count": delivery.attempt_count + 1,
                "first_attempt_at": delivery.first_attempt_at or attempt.at,
                "next_retry_at": _iso(now + timedelta(seconds=decided.retry_in_seconds or 0)) if retrying else None,
                "stream": delivery.stream if decided.status in OPEN_STATUSES else None,
                "updated_at": utc_now(),
            }
        )
        try:
            self.deliveries.save_state(updated, expected_status=delivery.status.value)
        except Conflict:
            logger.info("a delivery was settled by another try", extra={"delivery_id": delivery.delivery_id})
            return False
        log = logger.info if decided.status is DeliveryStatus.DELIVERED else logger.warning
        log(
            "webhook delivery " + decided.status.value.lower(),
            extra={
                "webhook_id": delivery.webhook_id,
                "delivery_id": delivery.delivery_id,
                "event_type": delivery.event_type,
                "status_code": attempt.status_code,
                "error": attempt.error,
                "attempt": updated.attempt_count,
            },
        )
        return True

    def dead_lettered(self, message: DeliveryMessage) -> None:
        """A message that failed its consumer again and again: the delivery is recorded as FAILED."""
        delivery = self.deliveries.get(message.webhook_id, message.delivery_id)
        if delivery is not None and delivery.status in OPEN_STATUSES:
            why = "the delivery kept failing inside the platform (dead-lettered)"
            self._settle(delivery, Attempt(at=utc_now(), error=why), Outcome(DeliveryStatus.FAILED), datetime.now(UTC))


def parse_message(body: str) -> DeliveryMessage:
    return DeliveryMessage.model_validate(json.loads(body))
