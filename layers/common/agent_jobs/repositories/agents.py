"""The agent registry in DynamoDB."""

from __future__ import annotations

from typing import Any

from agent_jobs.models.agents import Agent, AgentStatus
from agent_jobs.repositories.records import to_entity, to_record
from agent_jobs.repositories.tables import AgentRecord
from agent_jobs.repositories.transactions import conditional


class AgentRepository:
    def get(self, agent_id: str) -> Agent | None:
        try:
            return to_entity(AgentRecord.get(agent_id), Agent)
        except AgentRecord.DoesNotExist:
            return None

    def list(self, status: AgentStatus | None = None) -> list[Agent]:
        """Agents by name; one status, or both (admins). Keys from the status index, items by BatchGet."""
        statuses = [status] if status else list(AgentStatus)
        ids = [key.id for s in statuses for key in AgentRecord.by_status.query(s.value)]
        found = {record.id: record for record in AgentRecord.batch_get(ids)} if ids else {}
        return [to_entity(found[i], Agent) for i in ids if i in found]

    def create(self, agent: Agent) -> Agent:
        with conditional("an agent with this id exists"):
            to_record(agent, AgentRecord).save(condition=AgentRecord.id.does_not_exist())
        return agent

    def update(self, agent: Agent, changes: dict[str, Any]) -> Agent:
        record = AgentRecord(agent.id)
        record.version = agent.version
        actions = [getattr(AgentRecord, name).set(value) for name, value in changes.items()]
        with conditional("the agent changed while this request ran; try again"):
            record.update(actions=actions)
        return agent.model_copy(update={**changes, "version": agent.version + 1})
