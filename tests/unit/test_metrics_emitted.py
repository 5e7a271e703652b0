"""Each event emits the right EMF metric with the right dimensions (Powertools prints EMF JSON to stdout), through
one path (``metrics_catalog.emit``): a handler invocation adds no document and no warning of its own."""

from __future__ import annotations

import asyncio
import importlib
import json
import warnings
from dataclasses import dataclass
from typing import Any

import pytest

from agent_jobs.catalog import FUNCTIONS
from agent_jobs.domain import events, lifecycle
from agent_jobs.domain.stats import tally_agents
from agent_jobs.domain.transitions import JobEvent
from agent_jobs.domain.validation import evaluate
from agent_jobs.integrations.judge import CriterionResult, JudgeResult, Verdict
from agent_jobs.integrations.pricing import Usage
from agent_jobs.metrics_catalog import BY_NAME, METRICS, NAMESPACE, Kind, dimension_sets, emit
from agent_jobs.models.checkpoints import Checkpoint
from agent_jobs.models.jobs import Job, JobLog, JobStatus, JobSummary, LogKind
from local.lambda_runtime import LocalContext

S = JobStatus
CREATED = "2025-01-01T00:00:00.000Z"
CHANGED = "2025-01-01T00:01:30.000Z"  # 90 s later


@dataclass(frozen=True)
class Emitted:
    name: str
    value: float
    dimensions: dict[str, str]
    dimension_sets: list[list[str]]
    unit: str
    namespace: str


def emitted(text: str) -> list[Emitted]:
    """Every datapoint of every EMF line in ``text``, one per value as CloudWatch extracts them (an invocation's
    document carries each metric's values as an array); other lines, e.g. JSON logs, are skipped."""
    found = []
    for line in text.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            names = {d for dims in directive["Dimensions"] for d in dims}
            for metric in directive["Metrics"]:
                values = document[metric["Name"]]
                found += [
                    Emitted(
                        name=metric["Name"],
                        value=float(value),
                        dimensions={d: document[d] for d in names},
                        dimension_sets=directive["Dimensions"],
                        unit=metric["Unit"],
                        namespace=directive["Namespace"],
                    )
                    for value in (values if isinstance(values, list) else [values])
                ]
    return found


@pytest.fixture
def captured(capsys: pytest.CaptureFixture[str]) -> Any:
    capsys.readouterr()  # drop what came before

    def read() -> list[Emitted]:
        return emitted(capsys.readouterr().out)

    return read


def job(status: JobStatus = S.IN_PROGRESS, job_type: str = "simple-task", **changes: Any) -> Job:
    values: dict[str, Any] = {
        "id": "job-1",
        "user_id": "alice",
        "name": "n",
        "description": "d",
        "job_type": job_type,
        "status": status,
        "assigned_agent_id": "agent-7",
        "attempt": 1,
        "created_at": CREATED,
        "updated_at": CREATED,
        "version": 3,
    }
    values.update(changes)
    return Job(**values)


class FakeJobs:
    """Stands in for JobRepository.write_transition: the write happens at CHANGED."""

    def __init__(self) -> None:
        self.logs: list[JobLog] = []

    def write_transition(self, current: Job, target: JobStatus, changes: dict[str, Any], logs: list[JobLog]) -> Job:
        self.logs.extend(logs)
        return current.model_copy(
            update={**changes, "status": target, "updated_at": CHANGED, "version": current.version + 1}
        )


def by_name(found: list[Emitted]) -> dict[str, Emitted]:
    names = [m.name for m in found]
    assert len(names) == len(set(names)), names
    return {m.name: m for m in found}


# --- job transitions, through lifecycle.apply -----------------------------------------------------------


OUTCOMES = [
    (JobEvent.PASS, S.IN_PROGRESS, "JobsCompleted", "COMPLETED"),
    (JobEvent.FAIL, S.IN_PROGRESS, "JobsFailed", "FAILED"),
    (JobEvent.REJECT, S.IN_PROGRESS, "JobsRejected", "REJECTED"),
    (JobEvent.CANCEL, S.IN_PROGRESS, "JobsCancelled", "CANCELLED"),
    (JobEvent.CANCEL, S.FAILED, "JobsCancelled", "CANCELLED"),
    (JobEvent.REQUIRE_RESUBMISSION, S.IN_PROGRESS, "JobsResubmissionRequired", "RESUBMISSION_REQUIRED"),
    (JobEvent.FORCE_COMPLETE, S.RESUBMISSION_REQUIRED, "JobsCompleted", "COMPLETED"),
    (JobEvent.FORCE_COMPLETE, S.PENDING, "JobsCompleted", "COMPLETED"),
]


@pytest.mark.parametrize(("event", "source", "counter", "outcome"), OUTCOMES)
def test_outcome_transitions_count_and_time_the_job(
    captured: Any, event: JobEvent, source: JobStatus, counter: str, outcome: str
) -> None:
    lifecycle.apply(FakeJobs(), job(source), event, "why")  # type: ignore[arg-type]
    found = by_name(captured())
    assert set(found) == {counter, "JobDurationSeconds"}
    count, duration = found[counter], found["JobDurationSeconds"]
    assert count.value == 1 and count.unit == "Count" and count.namespace == NAMESPACE
    assert count.dimensions == {"service": "agent-jobs", "jobType": "simple-task"}
    assert count.dimension_sets == [["service", "jobType"], ["service"]]
    assert duration.value == 90.0 and duration.unit == "Seconds"
    assert duration.dimensions == {"service": "agent-jobs", "jobType": "simple-task", "status": outcome}
    assert duration.dimension_sets == [["service", "jobType", "status"], ["service", "status"], ["service"]]


def test_automatic_retry_counts_a_retry_only(captured: Any) -> None:
    lifecycle.apply(FakeJobs(), job(S.IN_PROGRESS), JobEvent.RETRY, "judge failed", changes={"attempt": 2})  # type: ignore[arg-type]
    (only,) = captured()
    assert only.name == "JobsRetried" and only.dimensions["jobType"] == "simple-task"


@pytest.mark.parametrize("source", [S.FAILED, S.RESUBMISSION_REQUIRED])
def test_restart_of_a_failed_job_counts_a_resubmission(captured: Any, source: JobStatus) -> None:
    lifecycle.apply(FakeJobs(), job(source), JobEvent.START, "resubmitted", changes={"attempt": 2})  # type: ignore[arg-type]
    (only,) = captured()
    assert only.name == "JobsResubmitted" and only.value == 1


@pytest.mark.parametrize(
    ("event", "source"),
    [
        (JobEvent.ASSIGN, S.PENDING),
        (JobEvent.MATCHING_FAILED, S.PENDING),
        (JobEvent.UNASSIGN, S.ASSIGNED),
        (JobEvent.START, S.ASSIGNED),  # the first start is not a resubmission
        (JobEvent.REASSIGN, S.FAILED),
    ],
)
def test_other_transitions_emit_nothing(captured: Any, event: JobEvent, source: JobStatus) -> None:
    lifecycle.apply(FakeJobs(), job(source), event, "x")  # type: ignore[arg-type]
    assert captured() == []


def test_job_created(captured: Any) -> None:
    events.job_created(job(S.PENDING, job_type="code-generation"))
    (only,) = captured()
    assert only.name == "JobsCreated" and only.dimensions == {"service": "agent-jobs", "jobType": "code-generation"}


def test_unknown_job_types_share_one_series(captured: Any) -> None:
    events.job_created(job(S.PENDING, job_type="made-up-by-a-user-1234"))
    (only,) = captured()
    assert only.dimensions["jobType"] == "other"


def test_job_types_from_the_setting_keep_their_name(captured: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from agent_jobs.services import reset

    monkeypatch.setenv("JOB_TYPE_CHECKPOINTS", json.dumps({"translation": {}}))
    reset()
    events.job_created(job(S.PENDING, job_type="translation"))
    (only,) = captured()
    assert only.dimensions["jobType"] == "translation"


def test_dimensions_never_leak_between_metrics(captured: Any) -> None:
    lifecycle.apply(FakeJobs(), job(S.IN_PROGRESS), JobEvent.PASS, "ok")  # type: ignore[arg-type]
    events.judge_called("validate", latency_ms=12.0, usage={"total_tokens": 30}, verdict="pass")
    events.job_swept("failed")
    for metric in captured():
        assert set(metric.dimensions) == {d for dims in dimension_sets(BY_NAME[metric.name]) for d in dims}


# --- agent and judge calls ------------------------------------------------------------------------------


def test_agent_call_latency_and_errors_have_no_agent_id(captured: Any) -> None:
    events.agent_called("simple-task", latency_ms=123.4, ok=True)
    events.agent_called("simple-task", latency_ms=None, ok=False)
    latency, error = captured()
    assert (latency.name, latency.value, latency.unit) == ("AgentCallLatencyMs", 123.4, "Milliseconds")
    assert (error.name, error.value) == ("AgentCallErrors", 1)
    for metric in (latency, error):
        assert metric.dimensions == {"service": "agent-jobs", "jobType": "simple-task"}


def test_judge_verdict_latency_and_tokens(captured: Any) -> None:
    events.judge_called(
        "validate", latency_ms=250.0, usage={"prompt_tokens": 100, "completion_tokens": 20}, verdict="fail"
    )
    found = by_name(captured())
    assert found["JudgeVerdicts"].dimensions == {"service": "agent-jobs", "verdict": "fail"}
    assert found["JudgeLatencyMs"].value == 250.0 and found["JudgeLatencyMs"].dimensions["task"] == "validate"
    assert found["JudgeTokens"].value == 120


def test_judge_unavailable_is_a_verdict_without_latency(captured: Any) -> None:
    events.judge_called("validate", verdict="unavailable")
    (only,) = captured()
    assert only.name == "JudgeVerdicts" and only.dimensions["verdict"] == "unavailable"


def test_agent_choice_counts_latency_and_tokens_not_a_verdict(captured: Any) -> None:
    events.judge_called("assign", latency_ms=80.0, usage={"total_tokens": 55})
    assert {m.name: m.dimensions.get("task") for m in captured()} == {
        "JudgeLatencyMs": "assign",
        "JudgeTokens": "assign",
    }


def test_evaluate_reports_the_judge_call(captured: Any) -> None:
    met = [CriterionResult(criterion="be nice", met=True, evidence="it is")]
    verdict = Verdict(isValid=True, score=1.0, reason="fine", criteria=met, suggestions=[])

    class FakeJudge:
        async def evaluate(self, **_: Any) -> JudgeResult:
            return JudgeResult(verdict=verdict, model="m", usage=Usage(40, 2), latency_ms=17.0)

    asyncio.run(evaluate(FakeJudge, job(acceptance_criteria="be nice"), {"x": 1, "summary": "nice"}))
    found = by_name(captured())
    assert found["JudgeVerdicts"].dimensions["verdict"] == "pass"
    assert found["JudgeTokens"].value == 42 and found["JudgeLatencyMs"].value == 17.0


def test_no_criteria_means_no_judge_call(captured: Any) -> None:
    asyncio.run(evaluate(lambda: None, job(acceptance_criteria=""), {"x": 1}))
    assert captured() == []


# --- checkpoints ------------------------------------------------------------------------------------------


def checkpoint(job_type: str = "code-generation") -> Checkpoint:
    return Checkpoint(
        id="cp-1",
        job_id="job-1",
        user_id="alice",
        job_type=job_type,
        stage="code-review",
        expires_at=CHANGED,
        created_at=CREATED,
        updated_at=CREATED,
    )


def test_checkpoint_created(captured: Any) -> None:
    events.checkpoint_created(checkpoint())
    (only,) = captured()
    assert only.name == "CheckpointsCreated" and only.dimensions["jobType"] == "code-generation"


@pytest.mark.parametrize(
    ("outcome", "counter"),
    [
        ("approved", "CheckpointsApproved"),
        ("rejected", "CheckpointsRejected"),
        ("expired", "CheckpointsExpired"),
        ("changes-requested", "CheckpointsChangesRequested"),
        ("cancelled", "CheckpointsCancelled"),
    ],
)
def test_checkpoint_decided(captured: Any, outcome: str, counter: str) -> None:
    events.checkpoint_decided(checkpoint(), outcome, 3600.0)
    found = by_name(captured())
    assert set(found) == {counter, "CheckpointWaitSeconds"}
    wait = found["CheckpointWaitSeconds"]
    assert wait.value == 3600.0 and wait.unit == "Seconds"
    assert wait.dimensions == {"service": "agent-jobs", "jobType": "code-generation", "outcome": outcome}


def test_a_hook_never_raises(captured: Any) -> None:
    events.checkpoint_decided(checkpoint(), "maybe", 1.0)  # unknown outcome: logged, not raised
    assert captured() == []


# --- handlers: one metrics path ---------------------------------------------------------------------------


def api_event(path: str) -> dict[str, Any]:
    """An HTTP API request no route of the function needs AWS for (a page file, the document, a 404)."""
    return {
        "version": "2.0",
        "routeKey": f"GET {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {},
        "requestContext": {"http": {"method": "GET", "path": path}, "requestId": "r-1", "stage": "$default"},
        "isBase64Encoded": False,
    }


SQS_RECORD_WITHOUT_A_MESSAGE = {
    "messageId": "m-1",
    "receiptHandle": "r-1",
    "body": "not a step message",
    "attributes": {"ApproximateReceiveCount": "1"},
    "messageAttributes": {},
    "eventSource": "aws:sqs",
    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:agent-jobs-execute",
    "awsRegion": "us-east-1",
}
QUIET_INVOCATIONS = {
    "create_job": api_event("/api/openapi.json"),
    "checkpoints": api_event("/admin"),
    "validate": api_event("/api/no-such-route"),
    "metrics": api_event("/api/no-such-route"),
    "execute_job": {"Records": [SQS_RECORD_WITHOUT_A_MESSAGE]},  # refused before any AWS call: nothing to count
    "events": {"Records": []},  # an empty stream batch
    "webhooks": api_event("/api/no-such-route"),
    "realtime": {"requestContext": {"routeKey": "$default", "connectionId": "c-1"}},  # no authorizer context: 401
}


def test_every_function_has_a_quiet_invocation() -> None:
    assert set(QUIET_INVOCATIONS) == set(FUNCTIONS)


@pytest.mark.parametrize("function", sorted(QUIET_INVOCATIONS))
def test_an_invocation_without_metric_events_writes_no_document_and_no_warning(captured: Any, function: str) -> None:
    """``@metrics.log_metrics`` on a ``Metrics`` object nobody fed warned "No application metrics to publish" on
    every invocation; the metrics go through ``emit`` only, so a quiet invocation says nothing."""
    handler = importlib.import_module(f"functions.{function}.handler").handler
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        handler(QUIET_INVOCATIONS[function], LocalContext(function))
    assert [str(w.message) for w in caught] == []
    assert captured() == []


# --- the catalog ------------------------------------------------------------------------------------------


def test_catalog_names_are_unique_and_cover_the_issue() -> None:
    names = [spec.name for spec in METRICS]
    assert len(names) == len(set(names))
    required = {
        "JobsCreated",
        "JobsCompleted",
        "JobsFailed",
        "JobsRejected",
        "JobsResubmissionRequired",
        "JobsRetried",
        "JobDurationSeconds",
        "AgentCallLatencyMs",
        "AgentCallErrors",
        "JudgeVerdicts",
        "JudgeLatencyMs",
        "JudgeTokens",
        "CheckpointsCreated",
        "CheckpointsApproved",
        "CheckpointsRejected",
        "CheckpointsExpired",
        "CheckpointWaitSeconds",
        "JobsInStatus",
        "PendingCheckpoints",
        "OldestPendingCheckpointAgeSeconds",
    }
    assert required <= set(names)


def test_catalog_dimensions_are_low_cardinality() -> None:
    high = {"jobId", "agentId", "userId", "checkpointId", "id"}
    for spec in METRICS:
        assert not high & set(spec.dimensions), spec.name
        for rollup in spec.rollups:
            assert set(rollup) < set(spec.dimensions), spec.name
        for dimension in spec.dimensions:
            assert dimension == "jobType" or dimension in spec.values, f"{spec.name}.{dimension} is unbounded"
        if spec.kind is Kind.GAUGE:
            assert not spec.rollups, f"{spec.name}: a roll-up of a gauge mixes unrelated samples"


def test_emit_refuses_undeclared_dimensions() -> None:
    with pytest.raises(ValueError, match="takes dimensions"):
        emit("JobsCreated", 1, jobType="simple-task", agentId="a-1")
    with pytest.raises(ValueError, match="is not one of"):
        emit("JobsInStatus", 1, status="COMPLETED")


def test_metrics_disabled_by_setting(captured: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    events.job_created(job(S.PENDING))
    assert captured() == []


# --- per-agent stats from logs ------------------------------------------------------------------------------


def log(kind: LogKind, *, at: str, agent: str | None = None, **extra: Any) -> JobLog:
    return JobLog(id=f"{at}#x", job_id=extra.pop("job_id", "j1"), status=kind, agent_id=agent, created_at=at, **extra)


def test_tally_agents_acceptance_and_latency() -> None:
    verdict = {"verdict": {"isValid": False}}
    passed = {"verdict": {"isValid": True}}
    histories = {
        "j1": [
            log(LogKind.AGENT_RESPONSE, at="1", agent="a", latency_ms=100.0),
            log(LogKind.IN_PROGRESS, at="2", agent="a", response_payload=verdict),  # automatic retry
            log(LogKind.AGENT_RESPONSE, at="3", agent="a", message="agent answered in 300 ms"),  # older log shape
            log(LogKind.COMPLETED, at="4", agent="a", response_payload=passed),
            log(LogKind.VALIDATION, at="5", actor="root-admin", response_payload=verdict),  # admin re-check: ignored
        ],
        "j2": [
            log(LogKind.AGENT_RESPONSE, at="1", agent="b", latency_ms=50.0, job_id="j2"),
            log(LogKind.VALIDATION, at="2", response_payload=passed, job_id="j2"),  # checkpoint flow: no agent id
        ],
    }
    summaries = [
        JobSummary(
            id=j,
            user_id="u",
            name="n",
            job_type="simple-task",
            status=S.COMPLETED,
            priority=5,
            assigned_agent_id=a,
            created_at="1",
            updated_at="2",
        )
        for j, a in (("j1", "a"), ("j2", "b"))
    ]
    tallies = tally_agents(histories, summaries)
    a, b = tallies["a"].to_api("a", "A"), tallies["b"].to_api("b", "B")
    assert a == {
        "agentId": "a",
        "name": "A",
        "jobs": 1,
        "answers": 2,
        "judged": 2,
        "acceptanceRate": 0.5,
        "medianLatencyMs": 200.0,
    }
    assert b["acceptanceRate"] == 1.0 and b["medianLatencyMs"] == 50.0 and b["judged"] == 1
