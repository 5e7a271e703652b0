"""Webhook subscriptions (DESIGN.md §15): owner-scoped, capped, SSRF-checked, the secret shown once.

A user's subscriptions get the events of their own jobs; an admin's ``scope: all`` one gets every job's. A job
created with ``webhookUrl`` gets a one-off subscription for its events only, signed with the user's default
secret (made on first use and shown once, in that job's create answer).
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from agent_jobs.domain.auth import Principal
from agent_jobs.errors import BadRequest, Conflict, NotFound, UnsafeUrlError
from agent_jobs.integrations import webhook_queue
from agent_jobs.integrations.signing import SECRET_PREFIX
from agent_jobs.integrations.ssrf import check_url
from agent_jobs.models.base import utc_now
from agent_jobs.models.webhooks import (
    CreateWebhookRequest,
    DeliveryMessage,
    DeliveryStatus,
    StoredDelivery,
    Subscription,
    UpdateWebhookRequest,
    WebhookKind,
    WebhookScope,
)
from agent_jobs.repositories.paging import Page
from agent_jobs.repositories.webhooks import ALL_WEBHOOKS, DeliveryRepository, WebhookRepository
from agent_jobs.settings import Settings

SECRET_BYTES = 24
JOB_WEBHOOK_DAYS = 30  # a job's one-off subscription outlives any retry of its events


def new_secret() -> str:
    """``whsec_`` + base64 of 24 random bytes (the Standard Webhooks secret format)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def new_id() -> str:
    return "wh_" + secrets.token_hex(12)


def job_webhook_id(job_id: str) -> str:
    return f"job-{job_id}"


def default_secret_id(user_id: str) -> str:
    return f"default-{user_id}"


def owner_key(subscription: Subscription) -> str | None:
    """The by_owner partition a subscription is listed in (None: not listed)."""
    if subscription.kind is not WebhookKind.SUBSCRIPTION:
        return None
    return ALL_WEBHOOKS if subscription.scope is WebhookScope.ALL else subscription.user_id


class WebhookService:
    def __init__(self, webhooks: WebhookRepository, deliveries: DeliveryRepository, settings: Settings) -> None:
        self.webhooks = webhooks
        self.deliveries = deliveries
        self.settings = settings

    # --- subscriptions ----------------------------------------------------------------------------
    def create(self, principal: Principal, request: CreateWebhookRequest) -> Subscription:
        if request.scope is WebhookScope.ALL and not principal.is_admin:
            # 400 naming the field, not 403: the route is open to every user, only this value is not
            raise BadRequest("scope all needs the admins group", field="scope")
        self.check_url(request.url, "url")
        if len(self.list(principal)) >= self.settings.webhook_max_subscriptions:
            raise Conflict(
                f"at most {self.settings.webhook_max_subscriptions} webhook subscriptions per user; delete one first"
            )
        now = utc_now()
        subscription = Subscription(
            id=new_id(),
            user_id=principal.user_id,
            url=request.url,
            events=sorted({event.value for event in request.events}),
            description=request.description,
            scope=request.scope,
            secret=new_secret(),
            created_at=now,
            updated_at=now,
        )
        self.webhooks.create(subscription, owner_key(subscription))
        return subscription

    def list(self, principal: Principal) -> list[Subscription]:
        """The caller's subscriptions (an admin's scope-all ones too), oldest first."""
        mine = self.webhooks.of_owner(principal.user_id)
        if principal.is_admin:
            mine += [s for s in self.webhooks.of_owner(ALL_WEBHOOKS) if s.user_id == principal.user_id]
            mine.sort(key=lambda s: s.created_at)
        return mine

    def get(self, principal: Principal, webhook_id: str) -> Subscription:
        """Only the owner's own subscriptions exist for them (another user's answers like a missing one)."""
        found = self.webhooks.get(webhook_id)
        if found is None or found.kind is not WebhookKind.SUBSCRIPTION or found.user_id != principal.user_id:
            raise NotFound(f"webhook {webhook_id} not found")
        return found

    def update(self, principal: Principal, webhook_id: str, request: UpdateWebhookRequest) -> Subscription:
        subscription = self.get(principal, webhook_id)
        changes: dict[str, Any] = request.model_dump(exclude_unset=True, exclude_none=True)
        if not changes:
            raise BadRequest("nothing to change: give url, events, description or active")
        if "url" in changes:
            self.check_url(changes["url"], "url")
        if "events" in changes:
            changes["events"] = sorted({str(getattr(event, "value", event)) for event in changes["events"]})
        changes["updated_at"] = utc_now()
        return self.webhooks.update(subscription, changes, owner=owner_key(subscription))

    def delete(self, principal: Principal, webhook_id: str) -> Subscription:
        """Open deliveries of a deleted subscription settle as FAILED on their next try (nothing is sent)."""
        subscription = self.get(principal, webhook_id)
        self.webhooks.delete(subscription)
        return subscription

    # --- the delivery log -------------------------------------------------------------------------
    def deliveries_of(
        self, principal: Principal, webhook_id: str, *, limit: int, token: str | None
    ) -> Page[StoredDelivery]:
        self.get(principal, webhook_id)
        return self.deliveries.page(webhook_id, limit=limit, token=token)

    def redeliver(self, principal: Principal, webhook_id: str, delivery_id: str) -> StoredDelivery:
        """Sends a delivery again, whatever became of it: PENDING now, tried at once (not behind the job's other
        deliveries), retried as usual; the receiver gets the same ``webhook-id``."""
        self.get(principal, webhook_id)
        delivery = self.deliveries.get(webhook_id, delivery_id)
        if delivery is None:
            raise NotFound(f"delivery {delivery_id} not found")
        now = utc_now()
        again = delivery.model_copy(
            update={"status": DeliveryStatus.PENDING, "next_retry_at": None, "updated_at": now, "window_from": now}
        )
        self.deliveries.save_state(again, expected_status=delivery.status.value)
        webhook_queue.enqueue([DeliveryMessage(webhook_id=webhook_id, delivery_id=delivery_id, ordered=False)])
        return again

    # --- a job's one-off webhookUrl -----------------------------------------------------------------
    def attach_to_job(self, principal: Principal, job_id: str, url: str) -> str | None:
        """Subscribes the job's events to ``url`` (already checked), signed with the user's default secret;
        returns that secret when this call created it (shown once), else None."""
        default, created = self._default_secret(principal.user_id)
        now = utc_now()
        one_off = Subscription(
            id=job_webhook_id(job_id),
            kind=WebhookKind.JOB,
            user_id=principal.user_id,
            url=url,
            job_id=job_id,
            secret=default.secret,
            created_at=now,
            updated_at=now,
        )
        self.webhooks.create(one_off, None, expires_days=JOB_WEBHOOK_DAYS)
        return default.secret if created else None

    def _default_secret(self, user_id: str) -> tuple[Subscription, bool]:
        now = utc_now()
        default = Subscription(
            id=default_secret_id(user_id),
            kind=WebhookKind.DEFAULT,
            user_id=user_id,
            secret=new_secret(),
            created_at=now,
            updated_at=now,
        )
        if self.webhooks.create(default, None):
            return default, True
        existing = self.webhooks.get(default.id)
        if existing is None:
            raise Conflict("the default webhook secret changed meanwhile; try again")
        return existing, False

    def check_url(self, url: str, field: str) -> None:
        try:
            check_url(url, allow_loopback_http=self.settings.allow_loopback_http_agents)
        except UnsafeUrlError as exc:
            raise UnsafeUrlError(f"{field}: {exc.message}", field=field) from exc
