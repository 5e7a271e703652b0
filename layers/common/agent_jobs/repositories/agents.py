"""The agent registry in DynamoDB."""

from __future__ import annotations

import contextlib
from enum import Enum
from typing import Any

from agent_jobs.errors import Conflict
from agent_jobs.models.agents import Agent, AgentStatus
from agent_jobs.repositories.records import to_entity, to_record
from agent_jobs.repositories.tables import AgentRecord
from agent_jobs.repositories.transactions import conditional


def _stored(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


class AgentRepository:
    def get(self, agent_id: str) -> Agent | None:
        """The agent, or None — also for an empty id (a job with no agent yet), which DynamoDB refuses as a key."""
        if not agent_id:
            return None
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
        """``changes`` hold the entity's own types (``AgentStatus``, not its string): the item stores their
        values, and the agent returned keeps the types, so it serializes without pydantic's warnings."""
        record = AgentRecord(agent.id)
        record.version = agent.version
        actions = [getattr(AgentRecord, name).set(_stored(value)) for name, value in changes.items()]
        with conditional("the agent changed while this request ran; try again"):
            record.update(actions=actions)
        return agent.model_copy(update={**changes, "version": agent.version + 1})

    def add_judge_usage(self, agent_id: str, prompt_tokens: int, completion_tokens: int, cost_usd: float) -> None:
        """Adds one judged output and its tokens and cost to the agent's counters (atomic ADD).

        Written without the version condition on purpose: a counter never conflicts with an admin's edit,
        and ADD commutes. A missing agent is skipped (the condition fails quietly)."""
        actions = [
            AgentRecord.judged_outputs.add(1),
            AgentRecord.judge_prompt_tokens.add(prompt_tokens),
            AgentRecord.judge_completion_tokens.add(completion_tokens),
            AgentRecord.judge_cost_usd.add(cost_usd),
        ]
        with contextlib.suppress(Conflict), conditional("the agent is gone"):
            AgentRecord._get_connection().update_item(agent_id, actions=actions, condition=AgentRecord.id.exists())

    def judge_usage(self, agent_id: str) -> dict[str, float]:
        """The agent's judge counters (zeros when none were written yet): what the registry's scorecard reads."""
        try:
            record = AgentRecord.get(agent_id, attributes_to_get=_USAGE_ATTRIBUTES)
        except AgentRecord.DoesNotExist:
            return dict.fromkeys(_USAGE_ATTRIBUTES, 0)
        return {name: getattr(record, name) or 0 for name in _USAGE_ATTRIBUTES}


_USAGE_ATTRIBUTES = ["judged_outputs", "judge_prompt_tokens", "judge_completion_tokens", "judge_cost_usd"]
