"""The webhook subscriptions API (DESIGN.md §15): a user's own subscriptions, their delivery log, redelivery."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from agent_jobs.api.app import principal, route
from agent_jobs.api.params import Limit, NextToken, ResourceId
from agent_jobs.api.responses import ok
from agent_jobs.domain.webhooks import WebhookService
from agent_jobs.models.base import ID_PATTERN
from agent_jobs.models.webhooks import (
    CreatedWebhookEnvelope,
    CreateWebhookRequest,
    Deliveries,
    DeliveryEnvelope,
    UpdateWebhookRequest,
    WebhookEnvelope,
    Webhooks,
)
from agent_jobs.repositories.webhooks import DeliveryRepository, WebhookRepository
from agent_jobs.services import services

router = Router()
TAGS = ["webhooks"]
DeliveryId = Annotated[str, Path(pattern=ID_PATTERN, max_length=128, description="the delivery's id")]


def webhook_service() -> WebhookService:
    return WebhookService(WebhookRepository(), DeliveryRepository(), services().settings)  # services() binds tables


@route(
    router,
    "POST",
    "/api/webhooks",
    ok=(201, CreatedWebhookEnvelope),
    errors=(409,),
    summary="Subscribe a URL to job events (the signing secret is in this answer only)",
    tags=TAGS,
)
def create_webhook(body: CreateWebhookRequest) -> Response[dict[str, Any]]:
    subscription = webhook_service().create(principal(router), body)
    return ok(201, webhook={**subscription.view().to_api(), "secret": subscription.secret})


@route(router, "GET", "/api/webhooks", ok=(200, Webhooks), summary="My webhook subscriptions", tags=TAGS)
def list_webhooks() -> Response[dict[str, Any]]:
    return ok(webhooks=[s.view().to_api() for s in webhook_service().list(principal(router))])


@route(router, "GET", "/api/webhooks/{id}", ok=(200, WebhookEnvelope), summary="One subscription", tags=TAGS)
def get_webhook(id: ResourceId) -> Response[dict[str, Any]]:
    return ok(webhook=webhook_service().get(principal(router), id).view().to_api())


@route(
    router,
    "PATCH",
    "/api/webhooks/{id}",
    ok=(200, WebhookEnvelope),
    errors=(409,),
    summary="Change a subscription's URL, events, description, or pause it",
    tags=TAGS,
)
def update_webhook(id: ResourceId, body: UpdateWebhookRequest) -> Response[dict[str, Any]]:
    return ok(webhook=webhook_service().update(principal(router), id, body).view().to_api())


@route(
    router, "DELETE", "/api/webhooks/{id}", ok=(200, WebhookEnvelope), errors=(409,), summary="Unsubscribe", tags=TAGS
)
def delete_webhook(id: ResourceId) -> Response[dict[str, Any]]:
    return ok(webhook=webhook_service().delete(principal(router), id).view().to_api())


@route(
    router,
    "GET",
    "/api/webhooks/{id}/deliveries",
    ok=(200, Deliveries),
    summary="A subscription's deliveries, newest first: attempts, status codes, latency, next retry",
    tags=TAGS,
)
def list_deliveries(id: ResourceId, limit: Limit = 20, next_token: NextToken = None) -> Response[dict[str, Any]]:
    page = webhook_service().deliveries_of(principal(router), id, limit=limit, token=next_token)
    return ok(deliveries=[d.view().to_api() for d in page.items], nextToken=page.next_token)


@route(
    router,
    "POST",
    "/api/webhooks/{id}/deliveries/{deliveryId}/redeliver",
    ok=(202, DeliveryEnvelope),
    errors=(409,),
    summary="Send a delivery again (same webhook-id), now",
    tags=TAGS,
)
def redeliver(id: ResourceId, deliveryId: DeliveryId) -> Response[dict[str, Any]]:
    return ok(202, delivery=webhook_service().redeliver(principal(router), id, deliveryId).view().to_api())
