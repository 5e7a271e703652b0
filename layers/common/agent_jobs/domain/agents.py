"""The agent registry: admins write, users read ACTIVE agents. The secret is write-only."""

from __future__ import annotations

import uuid
from typing import Any

from agent_jobs.domain import audit
from agent_jobs.domain.auth import Principal
from agent_jobs.domain.onboarding import check_and_store, needs_check
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
        if request.cancel_url is not None:
            self._check_endpoint(request.cancel_url, "cancelUrl")
        now = utc_now()
        values = request.model_dump(exclude_none=True)
        values["timeout_seconds"] = values.get("timeout_seconds", self.settings.agent_default_timeout_seconds)
        created = self.agents.create(Agent(id=uuid.uuid4().hex, created_at=now, updated_at=now, **values))
        audit.record(
            principal,
            "agent.created",
            audit.agent_target(created.id),
            audit.agent_changes(None, created, secret_changed=True),
        )
        return check_and_store(self.settings, principal, created)  # DESIGN.md §18: registering runs the check

    def update(self, principal: Principal, agent_id: str, request: AgentFields) -> Agent:
        principal.require_admin()
        agent = self.get(principal, agent_id)
        changes: dict[str, Any] = request.model_dump(exclude_unset=True, exclude_none=True)
        if "endpoint_url" in changes:
            self._check_endpoint(changes["endpoint_url"])
        if "cancel_url" in changes:
            self._check_endpoint(changes["cancel_url"], "cancelUrl")
        changes["updated_at"] = utc_now()
        updated = self.agents.update(agent, changes)
        changed = audit.agent_changes(agent, updated, secret_changed="secret" in changes)
        audit.record(principal, "agent.updated", audit.agent_target(agent.id), changed)
        return check_and_store(self.settings, principal, updated) if needs_check(set(changes)) else updated

    def deactivate(self, principal: Principal, agent_id: str) -> Agent:
        """DELETE keeps the record (jobs and logs refer to it) and stops new work going to it."""
        principal.require_admin()
        agent = self.get(principal, agent_id)
        updated = self.agents.update(agent, {"status": AgentStatus.INACTIVE, "updated_at": utc_now()})
        audit.record(principal, "agent.deactivated", audit.agent_target(agent.id), audit.agent_changes(agent, updated))
        return updated

    def _check_endpoint(self, url: str, field: str = "endpointUrl") -> None:
        try:
            check_url(url, allow_loopback_http=self.settings.allow_loopback_http_agents)
        except UnsafeUrlError as exc:
            raise UnsafeUrlError(f"{field}: {exc.message}", field=field) from exc
