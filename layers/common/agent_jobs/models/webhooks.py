"""Webhook subscriptions and their deliveries (DESIGN.md §15): what the API takes and what it shows.

The signing secret is shown once, in the answer that creates it (:class:`CreatedWebhook`); :class:`Webhook`
has no member for it, so no other answer can carry it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from agent_jobs.models.base import ApiModel, RequestModel
from agent_jobs.models.job_events import EventType

MAX_URL = 2048
MAX_DESCRIPTION = 500
MAX_ATTEMPTS_KEPT = 50  # a delivery's attempt log keeps the newest ones (24 h of backoff is ~55 attempts at most)


class WebhookScope(StrEnum):
    MINE = "mine"  # events of the owner's own jobs
    ALL = "all"  # admins: every job's events


class WebhookKind(StrEnum):
    SUBSCRIPTION = "subscription"  # made with POST /api/webhooks
    JOB = "job"  # a job's one-off webhookUrl
    DEFAULT = "default"  # holds a user's default signing secret (no URL)


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"  # queued, not tried yet (or waiting behind an older delivery of the same job)
    RETRYING = "RETRYING"  # the last try failed with a timeout, 429 or 5xx; nextRetryAt says when
    DELIVERED = "DELIVERED"  # a 2xx answer
    FAILED = "FAILED"  # refused for good: another 4xx, a redirect, an unsafe URL, the subscription gone
    GAVE_UP = "GAVE_UP"  # still failing when the retry window (24 h) ran out


OPEN_STATUSES = frozenset({DeliveryStatus.PENDING, DeliveryStatus.RETRYING})

EventTypeMember = Annotated[EventType, Field(strict=False)]


class CreateWebhookRequest(RequestModel):
    url: str = Field(min_length=1, max_length=MAX_URL, description="https (public addresses only)")
    events: list[EventTypeMember] = Field(min_length=1, max_length=len(EventType), description="event types to send")
    description: str = Field(default="", max_length=MAX_DESCRIPTION)
    scope: WebhookScope = Field(default=WebhookScope.MINE, strict=False, description="all: admins only")


class UpdateWebhookRequest(RequestModel):
    url: str | None = Field(default=None, min_length=1, max_length=MAX_URL)
    events: list[EventTypeMember] | None = Field(default=None, min_length=1, max_length=len(EventType))
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    active: bool | None = Field(default=None, description="false pauses deliveries (events meanwhile are skipped)")


class Webhook(ApiModel):
    """A subscription as the API shows it (never its secret)."""

    id: str
    url: str
    events: list[EventType]
    description: str = ""
    scope: WebhookScope = WebhookScope.MINE
    active: bool = True
    created_at: str
    updated_at: str


class CreatedWebhook(Webhook):
    secret: str = Field(description="whsec_…: verify our signatures with it. Shown this once, never again")


class Attempt(ApiModel):
    at: str
    status_code: int | None = None
    latency_ms: float | None = None
    error: str | None = None


class Delivery(ApiModel):
    id: str
    webhook_id: str
    event_id: str
    event_type: str
    job_id: str
    status: DeliveryStatus
    attempt_count: int = 0
    attempts: list[Attempt] = Field(default_factory=list)
    next_retry_at: str | None = None
    created_at: str
    updated_at: str


class DeliveryMessage(ApiModel):
    """The webhooks queue's message: which delivery to try. ``ordered``: wait behind older open deliveries of
    the same job (a redelivery does not); ``not_before``: a backoff longer than SQS's 15-minute delay."""

    webhook_id: str
    delivery_id: str
    ordered: bool = True
    not_before: str | None = None


_OPEN = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class WebhookEnvelope(BaseModel):
    model_config = _OPEN
    success: Literal[True]
    webhook: Webhook


class CreatedWebhookEnvelope(BaseModel):
    model_config = _OPEN
    success: Literal[True]
    webhook: CreatedWebhook


class Webhooks(BaseModel):
    model_config = _OPEN
    success: Literal[True]
    webhooks: list[Webhook]


class Deliveries(BaseModel):
    model_config = _OPEN
    success: Literal[True]
    deliveries: list[Delivery]
    next_token: str | None = None


class DeliveryEnvelope(BaseModel):
    model_config = _OPEN
    success: Literal[True]
    delivery: Delivery


def attempt_log(attempts: list[dict[str, Any]], new: Attempt) -> list[dict[str, Any]]:
    """The stored attempt list with ``new`` appended, keeping the newest :data:`MAX_ATTEMPTS_KEPT`."""
    return [*attempts, new.model_dump(mode="json", by_alias=True)][-MAX_ATTEMPTS_KEPT:]


class Subscription(ApiModel):
    """A stored subscription, whatever its kind (the entity behind :class:`Webhook`)."""

    id: str
    kind: WebhookKind = WebhookKind.SUBSCRIPTION
    user_id: str
    url: str | None = None
    events: list[str] = Field(default_factory=list)
    description: str = ""
    scope: WebhookScope = WebhookScope.MINE
    job_id: str | None = None
    secret: str = Field(exclude=True, repr=False)
    active: bool = True
    created_at: str
    updated_at: str
    version: int = 0

    def wants(self, event_type: str) -> bool:
        """A one-off job webhook gets all of its job's events; a subscription the types it named."""
        return self.active and (self.kind is WebhookKind.JOB or event_type in self.events)

    def view(self) -> Webhook:
        return Webhook(
            id=self.id,
            url=self.url or "",
            events=[EventType(name) for name in self.events],
            description=self.description,
            scope=self.scope,
            active=self.active,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


class StoredDelivery(ApiModel):
    """A delivery as stored: :class:`Delivery` plus the exact body and the ordering key."""

    webhook_id: str
    delivery_id: str
    event_id: str
    event_type: str
    job_id: str
    payload: str
    status: DeliveryStatus
    attempts: list[dict[str, Any]] = Field(default_factory=list)
    attempt_count: int = 0
    first_attempt_at: str | None = None
    next_retry_at: str | None = None
    window_from: str | None = None  # a redelivery restarts the retry window (None: the event's time)
    stream: str | None = None
    created_at: str
    updated_at: str

    def view(self) -> Delivery:
        return Delivery(
            id=self.delivery_id,
            webhook_id=self.webhook_id,
            event_id=self.event_id,
            event_type=self.event_type,
            job_id=self.job_id,
            status=self.status,
            attempt_count=self.attempt_count,
            attempts=[Attempt.model_validate(item) for item in self.attempts],
            next_retry_at=self.next_retry_at,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )
