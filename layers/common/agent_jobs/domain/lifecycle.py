"""Applies job transitions: the table's rule, the log entry, the conditional write — in one call.

Every status change in the code base is a call to :func:`apply` (or :func:`apply_steps` for several
transitions that happen together, e.g. assign-and-start: one write instead of two; :func:`create` for a
job written already moved, e.g. created with its agent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agent_jobs.domain.concurrency import attempt_ended
from agent_jobs.domain.events import job_settled, job_transitioned
from agent_jobs.domain.transitions import JobEvent, rule_for
from agent_jobs.models.base import utc_now
from agent_jobs.models.jobs import Job, JobLog, LogKind
from agent_jobs.repositories.job_logs import new_log_id
from agent_jobs.repositories.jobs import JobRepository


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
    sequence: int = 0,
) -> JobLog:
    now = utc_now()
    attempt = job.attempt if attempt is None else attempt
    return JobLog(
        id=new_log_id(attempt, now, sequence),
        job_id=job.id,
        status=kind,
        message=message[:4000],
        request_payload=request,
        response_payload=response,
        agent_id=agent_id,
        attempt=attempt,
        actor=actor,
        created_at=now,
    )


@dataclass(frozen=True)
class Step:
    """One transition of a job: the event, the log's message and payloads, the fields it changes."""

    event: JobEvent
    message: str
    changes: dict[str, Any] = field(default_factory=dict)
    agent_id: str | None = None
    request: Any = None
    response: Any = None


@dataclass(frozen=True)
class _Plan:
    """What ``steps`` do to a job: the job after them, its log entries, the fields they change, each move."""

    final: Job
    logs: list[JobLog]
    changes: dict[str, Any]
    moves: list[tuple[Job, Job, JobEvent]]


def _plan(job: Job, steps: list[Step], actor: str | None, first_sequence: int = 0) -> _Plan:
    """The transitions' table rules applied in turn (raises Conflict on a step the table refuses)."""
    current, moves, logs, changes = job, [], [], {}
    for sequence, step in enumerate(steps, start=first_sequence):
        rule = rule_for(current.status, step.event)
        following = current.model_copy(update={**step.changes, "status": rule.target})
        logs.append(
            make_log(
                following,
                rule.log,
                step.message,
                actor=actor,
                agent_id=step.agent_id or current.assigned_agent_id or following.assigned_agent_id,
                request=step.request,
                response=step.response,
                sequence=sequence,
            )
        )
        moves.append((current, following, step.event))
        changes.update(step.changes)
        current = following
    return _Plan(current, logs, changes, moves)


def _announce(jobs: JobRepository, plan: _Plan, start: Job, written: Job) -> None:
    """The hooks of each move once the write is done: metrics, scorecards, the agent slot of an ended attempt."""
    for (before, after, event), log in zip(plan.moves, plan.logs, strict=True):
        settled = after.model_copy(update={"updated_at": written.updated_at})
        job_transitioned(before, settled, event)
        if isinstance(jobs, JobRepository):  # a stand-in store (unit tests) has no tables for the counters
            job_settled(before, settled, event, log.message or "")
    if isinstance(jobs, JobRepository):
        attempt_ended(start, written)  # a parked async attempt that this ends frees its agent slot


def apply_steps(jobs: JobRepository, job: Job, steps: list[Step], *, actor: str | None = None) -> Job:
    """Moves ``job`` through ``steps`` in one conditional write with one log entry per step, or raises
    Conflict (a step the table refuses, or another writer won the race) and writes nothing."""
    plan = _plan(job, steps, actor)
    updated = jobs.write_transition(job, plan.final.status, plan.changes, plan.logs)
    _announce(jobs, plan, job, updated)
    return updated


def create(jobs: JobRepository, job: Job, created: JobLog, steps: list[Step], *, actor: str | None = None) -> Job:
    """Writes a new ``job`` already moved through ``steps`` (e.g. born assigned and started: DESIGN.md §13) in
    its one PutItem, with its ``created`` entry first."""
    plan = _plan(job, steps, actor, first_sequence=1)
    logs = [created, *plan.logs]
    written = jobs.create(plan.final.model_copy(update={"updated_at": logs[-1].created_at}), logs)
    _announce(jobs, plan, job, written)
    return written


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
    step = Step(event, message, changes or {}, agent_id, request, response)
    return apply_steps(jobs, job, [step], actor=actor)
