"""The registry's trust routes (DESIGN.md §18): an agent's scorecard, its onboarding check, A2A card import."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from agent_jobs.api.app import principal, route
from agent_jobs.api.params import ResourceId
from agent_jobs.api.responses import ok
from agent_jobs.domain import registry
from agent_jobs.models.registry import CheckEnvelope, ImportAgentRequest, ImportEnvelope, ScorecardEnvelope
from agent_jobs.services import services

router = Router()
TAGS = ["admin: agents"]
WINDOW_PATTERN = r"^(?:(?:[1-9]|[1-9][0-9]|[1-6][0-9]{2}|7[01][0-9]|720)h|(?:[1-9]|[12][0-9]|30)d)$"
Window = Annotated[
    str | None,
    # exactly 1h…720h or 1d…30d, so every window the schema allows is one the scorecard serves
    Query(pattern=WINDOW_PATTERN, max_length=4, description="1h to 30d, e.g. 24h (default) or 7d"),
]


@route(
    router,
    "GET",
    "/api/admin/agents/{id}/scorecard",
    ok=(200, ScorecardEnvelope),
    summary="An agent's record over a window: jobs, acceptance, latency, failures, tokens and cost",
    tags=TAGS,
)
def agent_scorecard(id: ResourceId, window: Window = None) -> Response[dict[str, Any]]:
    card = registry.scorecard(services(), principal(router), id, window, datetime.now(UTC))
    return ok(scorecard=card)


@route(
    router,
    "POST",
    "/api/admin/agents/{id}/check",
    ok=(200, CheckEnvelope),
    errors=(409,),
    summary="Run the onboarding check: a signed test call, the answer checked against outputSchema",
    tags=TAGS,
)
def check_agent(id: ResourceId) -> Response[dict[str, Any]]:
    agent = registry.check(services(), principal(router), id)
    return ok(check=agent.check.to_api() if agent.check else None, agent=agent.to_api())


@route(
    router,
    "POST",
    "/api/admin/agents/import",
    ok=(201, ImportEnvelope),
    summary="Register an agent from an A2A agent card (inline or by URL)",
    tags=TAGS,
)
def import_agent(body: ImportAgentRequest) -> Response[dict[str, Any]]:
    return ok(201, agent=registry.import_card(services(), principal(router), body).to_api())
