"""The job state machine (DESIGN.md §2): the one place that says which status change is allowed.

Every status change in the code goes through :func:`next_status`; the repository then writes it
with a condition on the status it was computed from and on the job's version.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from agent_jobs.errors import Conflict
from agent_jobs.models.jobs import JobStatus, LogKind

S = JobStatus


class JobEvent(StrEnum):
    ASSIGN = "ASSIGN"  # manual assign or auto-assign found an agent
    MATCHING_FAILED = "MATCHING_FAILED"  # auto-assign found no agent
    UNASSIGN = "UNASSIGN"  # cancel on an ASSIGNED job: the assignment is undone (seed 003)
    CANCEL = "CANCEL"  # cancel the job for good (owner or admin)
    START = "START"  # execute / resubmit: queued for the agent
    PASS = "PASS"  # noqa: S105 - agent result valid, judge passed, checkpoints approved
    RETRY = "RETRY"  # judge failed, auto-resubmit with feedback
    REQUIRE_RESUBMISSION = "REQUIRE_RESUBMISSION"  # judge failed (or unavailable), no auto-retry left
    FAIL = "FAIL"  # agent unreachable, bad output, DLQ, stuck
    REJECT = "REJECT"  # checkpoint rejected or expired
    REQUEST_CHANGES = "REQUEST_CHANGES"  # admin at a checkpoint: the agent runs again with the reviewer's feedback
    FORCE_COMPLETE = "FORCE_COMPLETE"  # admin
    REASSIGN = "REASSIGN"  # admin: another agent


@dataclass(frozen=True)
class Rule:
    sources: frozenset[JobStatus]
    target: JobStatus
    log: LogKind


def _rule(sources: set[JobStatus], target: JobStatus, log: LogKind | None = None) -> Rule:
    return Rule(frozenset(sources), target, log or LogKind(target.value))


RESTARTABLE = {S.ASSIGNED, S.RESUBMISSION_REQUIRED, S.FAILED}
# Cancel reaches every status where work is waiting or may still happen; ASSIGNED has its own meaning (UNASSIGN).
CANCELLABLE = {S.PENDING, S.IN_PROGRESS, S.RESUBMISSION_REQUIRED, S.FAILED}
# No event leaves these: a cancelled job is never completed, restarted or reassigned, not even by an admin.
FINAL = {S.COMPLETED, S.CANCELLED}

TRANSITIONS: dict[JobEvent, Rule] = {
    JobEvent.ASSIGN: _rule({S.PENDING}, S.ASSIGNED),
    JobEvent.MATCHING_FAILED: _rule({S.PENDING}, S.PENDING, LogKind.MATCHING_FAILED),
    JobEvent.UNASSIGN: _rule({S.ASSIGNED}, S.PENDING, LogKind.CANCELLED),
    JobEvent.CANCEL: _rule(CANCELLABLE, S.CANCELLED),
    JobEvent.START: _rule(RESTARTABLE, S.IN_PROGRESS),
    JobEvent.PASS: _rule({S.IN_PROGRESS}, S.COMPLETED),
    JobEvent.RETRY: _rule({S.IN_PROGRESS}, S.IN_PROGRESS),
    JobEvent.REQUIRE_RESUBMISSION: _rule({S.IN_PROGRESS}, S.RESUBMISSION_REQUIRED),
    JobEvent.FAIL: _rule({S.IN_PROGRESS}, S.FAILED),
    JobEvent.REJECT: _rule({S.IN_PROGRESS}, S.REJECTED),
    JobEvent.REQUEST_CHANGES: _rule({S.IN_PROGRESS}, S.IN_PROGRESS),
    JobEvent.FORCE_COMPLETE: _rule(set(S) - FINAL, S.COMPLETED),
    JobEvent.REASSIGN: _rule(RESTARTABLE, S.ASSIGNED),
}


def rule_for(current: JobStatus, event: JobEvent) -> Rule:
    """The rule that applies, or :class:`Conflict` naming the state that refuses it."""
    rule = TRANSITIONS[event]
    if current not in rule.sources:
        allowed = ", ".join(sorted(rule.sources))
        raise Conflict(
            f"cannot {event.value.lower().replace('_', ' ')} a job that is {current}; allowed from: {allowed}"
        )
    return rule


def next_status(current: JobStatus, event: JobEvent) -> JobStatus:
    return rule_for(current, event).target
