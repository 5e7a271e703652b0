"""Per-agent hourly counters (``AgentScoreRecord``): one UpdateItem with ADD per settled attempt, one bounded
Query per scorecard. ADD commutes, so concurrent settles never conflict and nothing is read before a write."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import NumberAttribute

from agent_jobs.repositories.tables import AgentScoreRecord


def _number(value: dict[str, str]) -> float:
    return float(value["N"]) if "N" in value else 0.0


class ScorecardRepository:
    def add(self, agent_id: str, hour: str, counters: dict[str, float]) -> None:
        """Adds ``counters`` (flat names → amounts) to the agent's item for ``hour``, creating it if needed."""
        actions = [NumberAttribute(attr_name=name).add(amount) for name, amount in sorted(counters.items()) if amount]
        if actions:
            AgentScoreRecord._get_connection().update_item(agent_id, hour, actions=actions)

    def hours(self, agent_id: str, first_hour: str, last_hour: str) -> list[dict[str, float]]:
        """The agent's hourly items from ``first_hour`` to ``last_hour`` (inclusive), counters only."""
        connection: Any = AgentScoreRecord._get_connection()
        condition = AgentScoreRecord.hour.between(first_hour, last_hour)
        items: list[dict[str, float]] = []
        start: dict[str, Any] | None = None
        while True:
            page = connection.query(agent_id, range_key_condition=condition, exclusive_start_key=start)
            for item in page.get("Items", []):
                items.append({name: _number(value) for name, value in item.items() if name not in ("agent_id", "hour")})
            start = page.get("LastEvaluatedKey")
            if not start:
                return items
