"""The agent registry API: users read ACTIVE agents; admins write. Secrets are never returned."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from agent_jobs.api.app import principal, route
from agent_jobs.api.responses import ok
from agent_jobs.models.agents import AgentFields, CreateAgentRequest
from agent_jobs.services import services

router = Router()


@route(router, "GET", "/api/agents", summary="Active agents")
def list_agents() -> Response[dict[str, Any]]:
    agents = services().agent_service.list(principal(router))
    return ok(agents=[agent.to_api() for agent in agents])


@route(router, "GET", "/api/agents/{id}", summary="One agent")
def get_agent(id: str) -> Response[dict[str, Any]]:
    return ok(agent=services().agent_service.get(principal(router), id).to_api())


@route(router, "GET", "/api/admin/agents", summary="All agents, inactive ones too (admin)")
def admin_list_agents() -> Response[dict[str, Any]]:
    agents = services().agent_service.list(principal(router), include_inactive=True)
    return ok(agents=[agent.to_api() for agent in agents])


@route(router, "POST", "/api/admin/agents", summary="Register an agent (admin)")
def create_agent(body: CreateAgentRequest) -> Response[dict[str, Any]]:
    return ok(201, agent=services().agent_service.create(principal(router), body).to_api())


@route(router, "PUT", "/api/admin/agents/{id}", summary="Change an agent (admin)")
def update_agent(id: str, body: AgentFields) -> Response[dict[str, Any]]:
    return ok(agent=services().agent_service.update(principal(router), id, body).to_api())


@route(router, "DELETE", "/api/admin/agents/{id}", summary="Deactivate an agent (admin)")
def delete_agent(id: str) -> Response[dict[str, Any]]:
    return ok(agent=services().agent_service.deactivate(principal(router), id).to_api())
