"""Registry operations beyond an admin's edit: the onboarding check (run, stored, audited), an agent's
scorecard, and the A2A card import. Admins only; every change lands in the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from agent_jobs.domain import audit, scorecards
from agent_jobs.domain.agent_cards import agent_values, fetch_card
from agent_jobs.domain.auth import Principal
from agent_jobs.domain.onboarding import check_and_store
from agent_jobs.errors import BadRequest
from agent_jobs.models.agents import Agent, CreateAgentRequest
from agent_jobs.models.registry import ImportAgentRequest
from agent_jobs.repositories.scorecards import ScorecardRepository
from agent_jobs.services import Services


def check(services: Services, principal: Principal, agent_id: str) -> Agent:
    """``POST /api/admin/agents/{id}/check``: the onboarding check again, on demand."""
    principal.require_admin()
    return check_and_store(services.settings, principal, services.agent_service.get(principal, agent_id))


def scorecard(
    services: Services, principal: Principal, agent_id: str, window: str | None, now: datetime
) -> dict[str, Any]:
    principal.require_admin()
    agent = services.agent_service.get(principal, agent_id)  # 404 for an unknown agent
    card = scorecards.scorecard(ScorecardRepository(), agent.id, window, now, services.agents.judge_usage(agent.id))
    return {"name": agent.name, **card}


def import_card(services: Services, principal: Principal, request: ImportAgentRequest) -> Agent:
    """An agent from an A2A card (inline, or fetched through the SSRF guard), registered like any other (its
    endpoint vetted, then checked)."""
    principal.require_admin()
    card = request.card if request.card is not None else fetch_card(request.card_url or "", services.settings)
    values = agent_values(card)
    ours = request.model_dump(include={"job_types", "timeout_seconds", "max_concurrency"}, exclude_none=True)
    try:
        create = CreateAgentRequest.model_validate({**values, **ours, "secret": request.secret}, strict=False)
    except ValidationError as exc:  # the card's own fields break a registry rule: the card is at fault
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise BadRequest(f"card: {where}: {problem['msg']}", field="card") from None
    agent = services.agent_service.create(principal, create)
    source = request.card_url or "inline card"
    audit.record(
        principal, "agent.imported", audit.agent_target(agent.id), {"source": source, "card": card.get("name")}
    )
    return agent
