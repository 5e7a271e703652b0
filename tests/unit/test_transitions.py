"""The job state machine against DESIGN.md §2's table, written out here independently of the code.

Every (status, event) pair is checked: the allowed ones give the table's target, every other one is
refused with Conflict.
"""

from __future__ import annotations

import itertools

import pytest

from agent_jobs.domain.transitions import JobEvent, next_status, rule_for
from agent_jobs.errors import Conflict
from agent_jobs.models.jobs import JobStatus, LogKind

PENDING, ASSIGNED, IN_PROGRESS = "PENDING", "ASSIGNED", "IN_PROGRESS"
COMPLETED, FAILED, REJECTED, RESUBMISSION_REQUIRED = "COMPLETED", "FAILED", "REJECTED", "RESUBMISSION_REQUIRED"
CANCELLED = "CANCELLED"
ALL_STATUSES = [PENDING, ASSIGNED, IN_PROGRESS, COMPLETED, FAILED, REJECTED, RESUBMISSION_REQUIRED, CANCELLED]
RESTARTABLE = [ASSIGNED, RESUBMISSION_REQUIRED, FAILED]

# DESIGN.md §2, row by row: (event, from-statuses, to-status).
DESIGN_TABLE: list[tuple[str, list[str], str]] = [
    ("ASSIGN", [PENDING], ASSIGNED),  # manual assign / auto-assign
    ("MATCHING_FAILED", [PENDING], PENDING),  # auto-assign finds no agent (log MATCHING_FAILED)
    ("UNASSIGN", [ASSIGNED], PENDING),  # cancel on ASSIGNED (log CANCELLED)
    ("CANCEL", [PENDING, IN_PROGRESS, RESUBMISSION_REQUIRED, FAILED], CANCELLED),  # cancel (owner or admin), §14
    ("START", RESTARTABLE, IN_PROGRESS),  # execute / resubmit
    ("PASS", [IN_PROGRESS], COMPLETED),  # agent result valid + judge passes
    ("RETRY", [IN_PROGRESS], IN_PROGRESS),  # judge fails, autoResubmit and attempts left
    ("REQUIRE_RESUBMISSION", [IN_PROGRESS], RESUBMISSION_REQUIRED),  # judge fails otherwise
    ("FAIL", [IN_PROGRESS], FAILED),  # agent unreachable, bad output schema, DLQ
    ("REJECT", [IN_PROGRESS], REJECTED),  # checkpoint rejected or expired
    ("REQUEST_CHANGES", [IN_PROGRESS], IN_PROGRESS),  # admin at a checkpoint: attempt+1 with feedback, §14
    # admin, any but COMPLETED — and not CANCELLED, which is terminal: a cancelled job never completes (§14)
    ("FORCE_COMPLETE", [s for s in ALL_STATUSES if s not in (COMPLETED, CANCELLED)], COMPLETED),
    ("REASSIGN", RESTARTABLE, ASSIGNED),  # admin reassign to another agent
]
EXPECTED: dict[tuple[str, str], str] = {
    (status, event): target for event, sources, target in DESIGN_TABLE for status in sources
}
# The log kind each event writes, where it is not simply the target status.
EXPECTED_LOG = {"MATCHING_FAILED": "MATCHING_FAILED", "UNASSIGN": "CANCELLED"}

ALL_PAIRS = list(itertools.product(list(JobStatus), list(JobEvent)))


def test_the_enums_are_the_ones_the_table_speaks_of() -> None:
    assert {s.value for s in JobStatus} == set(ALL_STATUSES)
    assert {e.value for e in JobEvent} == {event for event, _, _ in DESIGN_TABLE}


@pytest.mark.parametrize(("status", "event"), ALL_PAIRS, ids=[f"{s.value}-{e.value}" for s, e in ALL_PAIRS])
def test_every_status_event_pair(status: JobStatus, event: JobEvent) -> None:
    expected = EXPECTED.get((status.value, event.value))
    if expected is None:
        with pytest.raises(Conflict) as refused:
            next_status(status, event)
        assert status.value in refused.value.message  # names the state that refuses it
        assert refused.value.status_code == 409
    else:
        assert next_status(status, event) == JobStatus(expected)
        rule = rule_for(status, event)
        assert rule.log == LogKind(EXPECTED_LOG.get(event.value, expected))


def test_allowed_pairs_are_exactly_the_design_rows() -> None:
    allowed = set()
    for status, event in ALL_PAIRS:
        try:
            next_status(status, event)
        except Conflict:
            continue
        allowed.add((status.value, event.value))
    assert allowed == set(EXPECTED)


@pytest.mark.parametrize("final", [JobStatus.COMPLETED, JobStatus.CANCELLED])
def test_a_completed_or_cancelled_job_accepts_no_event(final: JobStatus) -> None:
    for event in JobEvent:
        with pytest.raises(Conflict):
            next_status(final, event)


def test_the_refusal_names_the_allowed_states() -> None:
    with pytest.raises(Conflict, match="allowed from: ASSIGNED, FAILED, RESUBMISSION_REQUIRED"):
        next_status(JobStatus.PENDING, JobEvent.START)
