"""The audit trail (DESIGN.md §18): every registry and worker change, with who, when and what changed.

The entry is written after the change it records succeeded (a change that failed is not in the trail). Should
that write fail, the entry goes to the log at ERROR in full, so the trail survives in CloudWatch and the
caller's change (already made) is not answered as a failure that a retry would repeat.
"""

from __future__ import annotations

import uuid
from typing import Any

from agent_jobs.domain.auth import Principal
from agent_jobs.models.agents import Agent, AgentFields
from agent_jobs.models.audit import AuditEntry
from agent_jobs.models.base import utc_now
from agent_jobs.observability import logger
from agent_jobs.repositories.audit import AuditRepository
from agent_jobs.repositories.paging import Page

SECRET_CHANGED = "(changed)"  # noqa: S105 - what the trail says of a secret: never its value
_AGENT_FIELDS = [name for name in AgentFields.model_fields if name != "secret"]


def actor_of(who: Principal | str) -> str:
    return who if isinstance(who, str) else who.user_id


def record(who: Principal | str, action: str, target: str, changes: dict[str, Any] | None = None) -> AuditEntry:
    at = utc_now()
    entry = AuditEntry(
        id=f"{at}#{uuid.uuid4().hex[:12]}",
        at=at,
        actor=actor_of(who),
        action=action,
        target=target,
        changes=changes or {},
    )
    try:
        AuditRepository().add(entry)
    except Exception:
        logger.exception("audit entry not stored; it is kept in this log line", extra={"audit": entry.to_api()})
    return entry


def agent_changes(before: Agent | None, after: Agent, *, secret_changed: bool = False) -> dict[str, Any]:
    """``{"field": {"from": …, "to": …}}`` for every admin-settable field that differs (camelCase, as the API
    names them); the secret appears as changed, never with its value."""
    old = before.to_api() if before is not None else {}
    new = after.to_api()
    changes: dict[str, Any] = {}
    for name in _AGENT_FIELDS:
        key = AgentFields.model_fields[name].alias or name
        if old.get(key) != new.get(key):
            changes[key] = {"from": old.get(key), "to": new.get(key)}
    if secret_changed:
        changes["secret"] = {"from": SECRET_CHANGED if before is not None else None, "to": SECRET_CHANGED}
    return changes


def agent_target(agent_id: str) -> str:
    return f"agent:{agent_id}"


def trail(principal: Principal, *, limit: int, token: str | None) -> Page[AuditEntry]:
    """The newest entries first (admins only)."""
    principal.require_admin()
    return AuditRepository().newest(utc_now(), limit=limit, token=token)
