"""The audit log's entry (DESIGN.md §18), apart from the registry's API models: the domain writes one on every
agent or worker change, in functions that never load the API's envelopes."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from agent_jobs.models.base import ApiModel


class AuditEntry(ApiModel):
    """One change: who (a user id, or ``client:<id>`` for a machine client), when, what, and the fields that
    changed (``{"field": {"from": …, "to": …}}``; a secret is recorded as changed, never its value)."""

    id: str
    at: str
    actor: str
    action: str  # agent.created, agent.updated, agent.deactivated, agent.checked, agent.imported, worker.*, ...
    target: str  # agent:<id>, worker, queue:<key>
    changes: dict[str, Any] = Field(default_factory=dict)
