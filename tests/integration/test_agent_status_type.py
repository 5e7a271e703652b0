"""An agent's status keeps its type through an update: the registry stores the enum's value and hands back the
enum, so answering with the agent raises no PydanticSerializationUnexpectedValue warning."""

from __future__ import annotations

import warnings

from agent_jobs.domain.auth import Principal
from agent_jobs.models.agents import Agent, AgentFields, AgentStatus
from agent_jobs.models.base import utc_now
from agent_jobs.services import services

ADMIN = Principal("root-admin", frozenset({"admins"}))


def stored_agent() -> Agent:
    now = utc_now()
    agent = Agent(
        id="agent-status-1",
        name="Typed",
        endpoint_url="https://agent.example.com/run",
        secret="s" * 32,
        created_at=now,
        updated_at=now,
    )
    return services().agents.create(agent)


def serialized_quietly(agent: Agent) -> dict[str, object]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        answer = agent.to_api()
    assert [str(w.message) for w in caught] == []
    return answer


def test_deactivating_keeps_the_status_an_enum(aws: dict[str, str]) -> None:
    stored_agent()
    agent = services().agent_service.deactivate(ADMIN, "agent-status-1")
    assert type(agent.status) is AgentStatus and agent.status is AgentStatus.INACTIVE
    assert serialized_quietly(agent)["status"] == "INACTIVE"
    assert services().agents.get("agent-status-1").status is AgentStatus.INACTIVE  # type: ignore[union-attr]


def test_an_update_naming_the_status_keeps_it_an_enum(aws: dict[str, str]) -> None:
    stored_agent()
    agent = services().agent_service.update(ADMIN, "agent-status-1", AgentFields(status=AgentStatus.INACTIVE))
    assert type(agent.status) is AgentStatus
    assert serialized_quietly(agent)["status"] == "INACTIVE"
    listed = services().agent_service.list(ADMIN, include_inactive=True)
    assert [(a.id, a.status) for a in listed] == [("agent-status-1", AgentStatus.INACTIVE)]
