"""Applies job transitions: the table's rule, the log entry, the conditional write — in one call.

Every status change in the code base is a call to :func:`apply`.
"""

from __future__ import annotations

from typing import Any

from agent_jobs.domain.events import job_transitioned
from agent_jobs.domain.transitions import JobEvent, rule_for
from agent_jobs.models.base import utc_now
from agent_jobs.models.jobs import Job, JobLog, LogKind
from agent_jobs.repositories.jobs import JobRepository, new_log_id


def make_log(
    job: Job,
    kind: LogKind,
    message: str,
    *,
    actor: str | None = None,
    agent_id: str | None = None,
    request: Any = None,
    response: Any = None,
    attempt: int | None = None,
) -> JobLog:
    now = utc_now()
    return JobLog(
        id=new_log_id(now),
        job_id=job.id,
        status=kind,
        message=message[:4000],
        request_payload=request,
        response_payload=response,
        agent_id=agent_id,
        attempt=job.attempt if attempt is None else attempt,
        actor=actor,
        created_at=now,
    )


def apply(
    jobs: JobRepository,
    job: Job,
    event: JobEvent,
    message: str,
    *,
    changes: dict[str, Any] | None = None,
    actor: str | None = None,
    agent_id: str | None = None,
    request: Any = None,
    response: Any = None,
) -> Job:
    """Moves ``job`` by ``event`` or raises Conflict (wrong state, or another writer won the race)."""
    rule = rule_for(job.status, event)
    changes = changes or {}
    log = make_log(
        job,
        rule.log,
        message,
        actor=actor,
        agent_id=agent_id or job.assigned_agent_id,
        request=request,
        response=response,
        attempt=changes.get("attempt", job.attempt),
    )
    updated = jobs.write_transition(job, rule.target, changes, log)
    job_transitioned(job, updated, event)
    return updated
