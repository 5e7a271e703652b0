"""Registry writes that are not an admin's edit: the onboarding check's result on the agent item."""

from __future__ import annotations

from agent_jobs.models.agents import Agent, AgentCheck
from agent_jobs.repositories.tables import AgentRecord
from agent_jobs.repositories.transactions import conditional


class RegistryRepository:
    def save_check(self, agent: Agent, check: AgentCheck) -> Agent:
        """Stores ``check`` on the agent, only while the agent still has the endpoint that was checked (a check
        of an old endpoint never lands on a new one). Like the judge counters it does not move ``version``: a
        check never makes an admin's concurrent edit fail. The agent is returned with its check; Conflict when
        its endpoint changed meanwhile."""
        condition = AgentRecord.endpoint_url == agent.endpoint_url
        actions = [AgentRecord.check.set(check.model_dump(mode="json"))]
        with conditional("the agent's endpoint changed during its check"):
            AgentRecord._get_connection().update_item(agent.id, actions=actions, condition=condition)
        return agent.model_copy(update={"check": check})
