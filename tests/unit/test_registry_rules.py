"""Issue 18's pure rules: what a settled transition adds to a scorecard and how a window is summed, the sample
input an onboarding check sends, the A2A card mapping, and machine principals and their scopes."""

from __future__ import annotations

from typing import Any

import pytest

from agent_jobs.catalog import ROUTES, Access, Scope
from agent_jobs.domain.agent_cards import agent_values
from agent_jobs.domain.auth import principal_from_claims
from agent_jobs.domain.onboarding import NoSample, sample_input
from agent_jobs.domain.scorecards import (
    LATENCY_BOUNDS_MS,
    failure_kind,
    latency_bucket,
    settled_counters,
    summarize,
    window_hours,
)
from agent_jobs.domain.transitions import JobEvent
from agent_jobs.errors import BadRequest, Forbidden
from agent_jobs.models.jobs import Job, JobStatus

S = JobStatus


def job(status: JobStatus, **changes: Any) -> Job:
    values: dict[str, Any] = {
        "id": "j",
        "user_id": "u",
        "name": "n",
        "description": "d",
        "status": status,
        "assigned_agent_id": "agent-1",
        "attempt": 1,
        "created_at": "2025-01-01T10:00:00.000Z",
        "updated_at": "2025-01-01T10:00:03.000Z",
        "claimed_at": "2025-01-01T10:00:01.000Z",
    }
    return Job(**{**values, **changes})


@pytest.mark.parametrize(
    ("event", "message", "kind"),
    [
        (JobEvent.PASS, "validation passed", None),
        (JobEvent.RETRY, "validation failed, resubmitting as attempt 2: unmet", "judge_failed"),
        (JobEvent.REQUIRE_RESUBMISSION, "validation unavailable: timeout", "judge_unavailable"),
        (JobEvent.REQUIRE_RESUBMISSION, "validation failed: output too large to judge: 1 MB", "too_large"),
        (JobEvent.RETRY, "validation failed, ...: deterministic checks failed: x", "checks_failed"),
        (JobEvent.FAIL, "agent call failed: agent timed out after 2s (after 1 attempt)", "timeout"),
        (JobEvent.FAIL, "agent call failed: cannot connect: ConnectError (after 3 attempts)", "unreachable"),
        (JobEvent.FAIL, "agent call failed: output does not match outputSchema at $: x", "bad_output"),
        (JobEvent.FAIL, "agent call failed: agent answer is not JSON (x)", "bad_output"),
        (JobEvent.FAIL, "agent call failed: agent refused the call (HTTP 400)", "agent_error"),
        (JobEvent.FAIL, "no result within 660 s of the claim (sweeper)", "lease_expired"),
        (JobEvent.FAIL, "execute step failed repeatedly; the message went to the dead-letter queue", "dead_letter"),
        (JobEvent.FAIL, "agent a1 is not active", "inactive"),
        (JobEvent.FAIL, "something new", "other"),
        (JobEvent.REJECT, "checkpoint code-review rejected: no", "checkpoint_rejected"),
    ],
)
def test_failure_kinds(event: JobEvent, message: str, kind: str | None) -> None:
    assert failure_kind(event, message) == kind


def test_a_pass_counts_the_attempt_the_job_its_latency_and_the_usage_it_added() -> None:
    before = job(S.IN_PROGRESS, usage={"promptTokens": 100, "completionTokens": 10, "costUsd": 0.001})
    after = job(S.COMPLETED, usage={"promptTokens": 300, "completionTokens": 40, "costUsd": 0.004})
    counters = settled_counters(before, after, JobEvent.PASS, "validation passed")
    assert counters == {
        "attempts": 1,
        "jobs": 1,
        "accepted": 1,
        "prompt_tokens": 200,
        "completion_tokens": 30,
        "cost_usd": 0.003,
        f"lat_{latency_bucket(2000)}": 1,  # claim → settle: 2 s
    }


def test_a_retry_is_an_attempt_not_a_job_and_unrelated_events_count_nothing() -> None:
    retry = settled_counters(job(S.IN_PROGRESS), job(S.IN_PROGRESS), JobEvent.RETRY, "validation failed: x")
    assert retry is not None and "jobs" not in retry and retry["fail_judge_failed"] == 1
    for event in (JobEvent.START, JobEvent.ASSIGN, JobEvent.FORCE_COMPLETE, JobEvent.CANCEL):
        assert settled_counters(job(S.ASSIGNED), job(S.IN_PROGRESS), event, "x") is None
    assert settled_counters(job(S.IN_PROGRESS), job(S.FAILED, assigned_agent_id=None), JobEvent.FAIL, "x") is None
    unavailable = settled_counters(
        job(S.IN_PROGRESS), job(S.RESUBMISSION_REQUIRED), JobEvent.REQUIRE_RESUBMISSION, "validation unavailable: x"
    )
    assert unavailable is not None and unavailable["unjudged"] == 1


def test_workflow_jobs_keep_their_human_wait_out_of_the_latency() -> None:
    counters = settled_counters(
        job(S.IN_PROGRESS, job_type="code-generation"),
        job(S.COMPLETED, job_type="code-generation"),
        JobEvent.PASS,
        "ok",
    )
    assert counters is not None and not any(name.startswith("lat_") for name in counters)


def test_latency_buckets_and_percentiles() -> None:
    assert latency_bucket(0) == 0 and latency_bucket(100) == 0 and latency_bucket(101) == 1
    assert latency_bucket(10**9) == len(LATENCY_BOUNDS_MS)
    items: list[dict[str, float]] = [
        {"attempts": 10, "accepted": 6, "unjudged": 2, "lat_2": 5, "lat_5": 4, f"lat_{len(LATENCY_BOUNDS_MS)}": 1}
    ]
    figures = summarize(items)
    assert figures["acceptanceRate"] == 0.75  # 6 of the 8 the judge could judge
    assert figures["latencyMs"]["p50"] == LATENCY_BOUNDS_MS[2] and figures["latencyMs"]["p95"] is None  # beyond
    assert summarize([])["acceptanceRate"] is None and summarize([])["latencyMs"]["p50"] is None


@pytest.mark.parametrize(("window", "hours"), [(None, 24), ("1h", 1), ("7d", 168), ("30d", 720), ("720h", 720)])
def test_windows(window: str | None, hours: int) -> None:
    assert window_hours(window) == hours


@pytest.mark.parametrize("window", ["0h", "31d", "721h", "1w", "", "h"])
def test_bad_windows(window: str) -> None:
    with pytest.raises(BadRequest):
        window_hours(window)


def test_sample_inputs_fit_their_schemas() -> None:
    schema = {
        "type": "object",
        "required": ["name", "size", "when", "items", "mode"],
        "properties": {
            "name": {"type": "string", "minLength": 20, "maxLength": 30},
            "size": {"type": "number", "exclusiveMinimum": 5, "multipleOf": 2},
            "when": {"type": "string", "format": "date-time"},
            "items": {"type": "array", "minItems": 2, "items": {"type": "integer", "maximum": -3}},
            "mode": {"enum": ["fast", "slow"]},
            "nested": {"type": "object"},
        },
    }
    sample = sample_input(schema)
    assert set(sample) == {"name", "size", "when", "items", "mode"} and sample["mode"] == "fast"
    assert sample_input({"type": "object", "examples": [{"a": 1}]}) == {"a": 1}
    assert sample_input(None) == {"text": "onboarding check"}
    with pytest.raises(NoSample):
        sample_input(
            {"type": "object", "required": ["x"], "properties": {"x": {"type": "string", "pattern": "^[0-9]+$"}}}
        )


def test_a2a_cards_map_to_registry_fields() -> None:
    values = agent_values(
        {
            "name": " Reporter ",
            "description": "Reports",
            "supportedInterfaces": [{"url": "https://agent.example/a2a"}],
            "skills": [{"id": "a", "name": "Alpha"}, {"id": "b"}, {"id": "a", "name": "Alpha"}, "junk"],
            "inputSchema": {"type": "object"},
        }
    )
    assert values == {
        "name": "Reporter",
        "description": "Reports",
        "skills": ["Alpha", "b"],
        "endpoint_url": "https://agent.example/a2a",
        "input_schema": {"type": "object"},
    }
    with pytest.raises(BadRequest):
        agent_values({"name": "x"})


def test_machine_principals_carry_scopes_and_people_do_not() -> None:
    machine = principal_from_claims(
        {"sub": "c1", "client_id": "c1", "token_use": "access", "scope": f"{Scope.READ.value} {Scope.WRITE.value}"}
    )
    assert machine.user_id == "client:c1" and not machine.is_admin
    machine.require_scope(Scope.READ)
    with pytest.raises(Forbidden):
        machine.require_scope(Scope.ADMIN)
    admin = principal_from_claims({"sub": "c2", "client_id": "c2", "token_use": "access", "scope": Scope.ADMIN.value})
    assert admin.is_admin
    person = principal_from_claims({"sub": "u1", "client_id": "app", "token_use": "access", "username": "alice"})
    assert person.scopes is None and person.user_id == "u1"
    person.require_scope(Scope.ADMIN)  # people are judged by their groups, not scopes


def test_every_route_has_the_scope_its_access_implies() -> None:
    for route in ROUTES:
        if route.access is Access.PUBLIC:
            assert route.scope is None
        elif route.access is Access.ADMIN:
            assert route.scope is Scope.ADMIN
        else:
            assert route.scope is (Scope.READ if route.method == "GET" else Scope.WRITE), route
