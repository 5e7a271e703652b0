"""The agent registry API: users read ACTIVE agents as cards (no endpoint, timeout or status); admins see
and write everything but the signing secret, which is never returned."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from agent_jobs.api.app import principal, route
from agent_jobs.api.params import ResourceId
from agent_jobs.api.responses import ok
from agent_jobs.domain.auth import Principal
from agent_jobs.models.agents import Agent, AgentFields, CreateAgentRequest
from agent_jobs.models.envelopes import AgentCardEnvelope, AgentCards, AgentEnvelope, Agents
from agent_jobs.services import services

router = Router()
TAGS = ["agents"]
ADMIN_TAGS = ["admin: agents"]


def _view(caller: Principal, agent: Agent) -> dict[str, Any]:
    """Admins see the whole agent; everyone else its card."""
    return agent.to_api() if caller.is_admin else agent.card().to_api()


@route(router, "GET", "/api/agents", ok=(200, AgentCards), summary="Active agents", tags=TAGS)
def list_agents() -> Response[dict[str, Any]]:
    caller = principal(router)
    return ok(agents=[_view(caller, agent) for agent in services().agent_service.list(caller)])


@route(router, "GET", "/api/agents/{id}", ok=(200, AgentCardEnvelope), summary="One agent", tags=TAGS)
def get_agent(id: ResourceId) -> Response[dict[str, Any]]:
    caller = principal(router)
    return ok(agent=_view(caller, services().agent_service.get(caller, id)))


@route(router, "GET", "/api/admin/agents", ok=(200, Agents), summary="All agents, inactive ones too", tags=ADMIN_TAGS)
def admin_list_agents() -> Response[dict[str, Any]]:
    agents = services().agent_service.list(principal(router), include_inactive=True)
    return ok(agents=[agent.to_api() for agent in agents])


@route(router, "POST", "/api/admin/agents", ok=(201, AgentEnvelope), summary="Register an agent", tags=ADMIN_TAGS)
def create_agent(body: CreateAgentRequest) -> Response[dict[str, Any]]:
    return ok(201, agent=services().agent_service.create(principal(router), body).to_api())


@route(
    router,
    "PUT",
    "/api/admin/agents/{id}",
    ok=(200, AgentEnvelope),
    errors=(409,),
    summary="Change an agent",
    tags=ADMIN_TAGS,
)
def update_agent(id: ResourceId, body: AgentFields) -> Response[dict[str, Any]]:
    return ok(agent=services().agent_service.update(principal(router), id, body).to_api())


@route(
    router,
    "DELETE",
    "/api/admin/agents/{id}",
    ok=(200, AgentEnvelope),
    errors=(409,),
    summary="Deactivate an agent",
    tags=ADMIN_TAGS,
)
def delete_agent(id: ResourceId) -> Response[dict[str, Any]]:
    return ok(agent=services().agent_service.deactivate(principal(router), id).to_api())
