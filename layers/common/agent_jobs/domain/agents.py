"""The agent registry: admins write, users read ACTIVE agents. The secret is write-only."""

from __future__ import annotations

import uuid
from typing import Any

from agent_jobs.domain.auth import Principal
from agent_jobs.errors import NotFound, UnsafeUrlError
from agent_jobs.integrations.ssrf import check_url
from agent_jobs.models.agents import Agent, AgentFields, AgentStatus, CreateAgentRequest
from agent_jobs.models.base import utc_now
from agent_jobs.repositories.agents import AgentRepository
from agent_jobs.settings import Settings


class AgentService:
    def __init__(self, agents: AgentRepository, settings: Settings) -> None:
        self.agents = agents
        self.settings = settings

    def list(self, principal: Principal, *, include_inactive: bool = False) -> list[Agent]:
        if include_inactive:
            principal.require_admin()
            return self.agents.list()
        return self.agents.list(AgentStatus.ACTIVE)

    def get(self, principal: Principal, agent_id: str) -> Agent:
        agent = self.agents.get(agent_id)
        if agent is None or (agent.status != AgentStatus.ACTIVE and not principal.is_admin):
            raise NotFound(f"agent {agent_id} not found")
        return agent

    def create(self, principal: Principal, request: CreateAgentRequest) -> Agent:
        principal.require_admin()
        self._check_endpoint(request.endpoint_url)
        now = utc_now()
        values = request.model_dump(exclude_none=True)
        values["timeout_seconds"] = values.get("timeout_seconds", self.settings.agent_default_timeout_seconds)
        return self.agents.create(Agent(id=uuid.uuid4().hex, created_at=now, updated_at=now, **values))

    def update(self, principal: Principal, agent_id: str, request: AgentFields) -> Agent:
        principal.require_admin()
        agent = self.get(principal, agent_id)
        changes: dict[str, Any] = request.model_dump(exclude_unset=True, exclude_none=True)
        if "endpoint_url" in changes:
            self._check_endpoint(changes["endpoint_url"])
        if "status" in changes:
            changes["status"] = changes["status"].value
        changes["updated_at"] = utc_now()
        return self.agents.update(agent, changes)

    def deactivate(self, principal: Principal, agent_id: str) -> Agent:
        """DELETE keeps the record (jobs and logs refer to it) and stops new work going to it."""
        principal.require_admin()
        agent = self.get(principal, agent_id)
        return self.agents.update(agent, {"status": AgentStatus.INACTIVE.value, "updated_at": utc_now()})

    def _check_endpoint(self, url: str) -> None:
        try:
            check_url(url, allow_loopback_http=self.settings.allow_loopback_http_agents)
        except UnsafeUrlError as exc:
            raise UnsafeUrlError(f"endpointUrl: {exc.message}", field="endpointUrl") from exc
