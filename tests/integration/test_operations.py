"""Operations on moto: the scheduled gauges and sweeper, worker start/stop/concurrency, the stats view, and
the metrics a real pipeline run emits."""
# ruff: noqa: F811 - the pipeline fixtures are imported from test_pipeline and requested by name

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from agent_jobs.catalog import EXECUTE_QUEUE_KEYS, QUEUES
from agent_jobs.domain.lifecycle import apply
from agent_jobs.domain.sweeper import iso
from agent_jobs.domain.transitions import JobEvent
from agent_jobs.models.checkpoints import Checkpoint
from agent_jobs.models.jobs import JobStatus
from agent_jobs.repositories.tables import JobRecord
from agent_jobs.services import reset, services
from local.provision import provision_functions
from tests.fixtures.openai_server import Script, fail_reply
from tests.integration.conftest import Api, LambdaContext, deliver, drain, run_queues
from tests.integration.test_pipeline import (  # noqa: F401 - pytest fixtures used by name
    agent_server,
    create_job,
    job_state,
    judge_script,
    judge_server,
    pipeline,
    register_agent,
)
from tests.unit.test_metrics_emitted import Emitted, emitted

WORKER = "/api/admin/agent-worker"
STATS = "/api/admin/stats"
STUCK = "no result within 660 s (sweeper)"  # defaults: 120 s x (2 retries + 1) + 300 s margin


class _NoLambdaPush(dict[str, Any]):
    """moto's SQS pushes to an *enabled* mapping's function on every send (and fails: it cannot run code).
    As in the local stack, the mappings stay plain records and the tests' poller plays Lambda's."""

    def __setitem__(self, key: str, value: Any) -> None:
        return None


@pytest.fixture
def workers(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The Lambda side: a placeholder function per catalog entry and an *enabled* event source mapping per
    queue and DLQ (BatchSize 10, MaximumConcurrency 5 for the execute queues), via local/provision.py."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sqs.models import sqs_backends

    for queue in sqs_backends[DEFAULT_ACCOUNT_ID][aws["AWS_REGION"]].queues.values():
        queue.lambda_event_source_mappings = _NoLambdaPush()
    env = {**aws, **provision_functions(aws, enabled=True)}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset()
    return env


def _mapping_enabled(queue_url: str) -> bool:
    """What Lambda's poller checks: is the queue's event source mapping enabled?"""
    region = os.environ["AWS_REGION"]
    arn = boto3.client("sqs", region_name=region).get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    found = boto3.client("lambda", region_name=region).list_event_source_mappings(EventSourceArn=arn)
    return any(m["State"] == "Enabled" for m in found["EventSourceMappings"])


def run_enabled(env: dict[str, str], *, rounds: int = 50) -> int:
    """Like ``run_queues``, but a queue is polled only while its mapping is enabled (as the local pollers)."""
    total = 0
    for _ in range(rounds):
        moved = 0
        for spec in QUEUES:
            setting = spec.setting.upper()
            for url in (env[setting], env[f"{setting.removesuffix('_URL')}_DLQ_URL"]):
                if _mapping_enabled(url):
                    moved += deliver(url, spec.consumer)
        total += moved
        if not moved:
            return total
    raise AssertionError("queues did not drain")


def scheduled(capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], list[Emitted]]:
    """One run of the EventBridge schedule; its summary and the metrics it emitted."""
    from functions.metrics.handler import handler

    capsys.readouterr()
    event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}, "resources": []}
    summary = handler(event, LambdaContext())
    return summary, emitted(capsys.readouterr().out)


def values(found: list[Emitted], name: str, dimension: str | None = None) -> dict[str | None, float]:
    return {(m.dimensions.get(dimension) if dimension else None): m.value for m in found if m.name == name}


def depth(queue_url: str) -> tuple[int, int]:
    attributes = boto3.client("sqs", region_name=os.environ["AWS_REGION"]).get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def age(job_id: str, seconds: int) -> None:
    """Moves a job's last change ``seconds`` into the past (as if nothing happened since)."""
    past = iso(datetime.now(UTC) - timedelta(seconds=seconds))
    JobRecord(job_id).update(actions=[JobRecord.updated_at.set(past)], add_version_condition=False)


def move(job_id: str, *steps: tuple[JobEvent, dict[str, Any]]) -> None:
    """Walks a job through transitions directly (no queue message is sent)."""
    for event, changes in steps:
        job = services().jobs.get(job_id)
        assert job is not None
        apply(services().jobs, job, event, f"test: {event}", changes=changes)


def pending_job(api: Api, **overrides: Any) -> str:
    body = {"name": "n", "description": "d", "autoAssign": False, **overrides}
    reply = api.post("/api/jobs", body)
    assert reply.status == 201, reply.body
    return str(reply.body["job"]["id"])


ASSIGN = (JobEvent.ASSIGN, {"assigned_agent_id": "agent-x", "agent_inputs": {}})
START = (JobEvent.START, {"attempt": 1})


# --- gauges ---------------------------------------------------------------------------------------------


def test_gauges_count_open_jobs_checkpoints_and_queues(
    aws: dict[str, str], api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(2):
        pending_job(api)
    move(pending_job(api), ASSIGN)
    move(pending_job(api), ASSIGN, START)
    move(pending_job(api), ASSIGN, START, (JobEvent.FAIL, {}))
    move(pending_job(api), ASSIGN, START, (JobEvent.PASS, {}))  # COMPLETED: not gauged
    created = iso(datetime.now(UTC) - timedelta(hours=2))
    services().checkpoints.create(
        Checkpoint(
            id="cp-1",
            job_id="j",
            user_id="alice",
            job_type="code-generation",
            stage="code-review",
            expires_at=iso(datetime.now(UTC) + timedelta(hours=22)),
            created_at=created,
            updated_at=created,
            task_token="secret-token",
        )
    )
    sqs = boto3.client("sqs", region_name=aws["AWS_REGION"])
    for _ in range(3):
        sqs.send_message(QueueUrl=aws["VALIDATE_QUEUE_URL"], MessageBody="{}")
    sqs.send_message(QueueUrl=aws["EXECUTE_QUEUE_DLQ_URL"], MessageBody="{}")
    sqs.receive_message(QueueUrl=aws["VALIDATE_QUEUE_URL"], MaxNumberOfMessages=1, VisibilityTimeout=60)

    summary, found = scheduled(capsys)

    assert values(found, "JobsInStatus", "status") == {
        "PENDING": 2,
        "ASSIGNED": 1,
        "IN_PROGRESS": 1,
        "RESUBMISSION_REQUIRED": 0,
        "FAILED": 1,
    }
    assert values(found, "PendingCheckpoints") == {None: 1}
    (oldest,) = values(found, "OldestPendingCheckpointAgeSeconds").values()
    assert 7190 < oldest < 7300
    visible = values(found, "QueueVisibleMessages", "queue")
    in_flight = values(found, "QueueInFlightMessages", "queue")
    assert set(visible) == set(in_flight) == {q.key for q in QUEUES} | {f"{q.key}-dlq" for q in QUEUES}
    assert visible["validate"] == 2 and in_flight["validate"] == 1
    assert visible["execute-dlq"] == 1 and visible["execute"] == 0
    for metric in found:
        assert metric.namespace == "AgentJobs" and metric.dimensions["service"] == "agent-jobs"
    assert summary["sweeper"]["examined"] == 0  # the IN_PROGRESS job is fresh
    assert "secret-token" not in json.dumps(summary)


def test_no_scan_anywhere(
    aws: dict[str, str], api: Api, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scheduled run and the admin views read with Query/Get only."""
    from pynamodb.connection.base import Connection

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("Scan used")

    monkeypatch.setattr(Connection, "scan", refuse)
    pending_job(api)
    summary, _ = scheduled(capsys)
    assert "gauges" in summary and "sweeper" in summary
    assert Api("root-admin", ["admins"]).get(STATS).status == 200


# --- the sweeper ------------------------------------------------------------------------------------------


def test_sweeper_fails_a_dispatched_job_that_never_answered(
    pipeline: dict[str, str], api: Api, admin: Api, agent_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    agent_id = register_agent(admin, agent_server.url("/fast"))
    job = create_job(api, agent_id)
    drain(pipeline["EXECUTE_QUEUE_URL"])
    current = services().jobs.get(job["id"])
    assert current is not None
    services().jobs.claim_dispatch(current)  # the execute function claimed the attempt, then died
    age(job["id"], 700)

    summary, found = scheduled(capsys)

    final, logs = job_state(api, job["id"])
    assert final["status"] == "FAILED"
    assert logs[-1]["status"] == "FAILED" and logs[-1]["message"] == STUCK and logs[-1]["actor"] == "sweeper"
    assert summary["sweeper"]["failed"] == [job["id"]]
    assert values(found, "SweptJobs", "action") == {"failed": 1}
    assert values(found, "JobsFailed", "jobType") == {"simple-task": 1}
    assert agent_server.requests == []


def test_sweeper_redispatches_a_lost_message_and_the_job_completes(
    pipeline: dict[str, str], api: Api, admin: Api, agent_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    agent_id = register_agent(admin, agent_server.url("/fast"))
    job = create_job(api, agent_id)
    assert len(drain(pipeline["EXECUTE_QUEUE_URL"])) == 1  # the message is lost
    age(job["id"], 700)

    summary, found = scheduled(capsys)

    assert summary["sweeper"]["redispatched"] == [job["id"]]
    assert values(found, "SweptJobs", "action") == {"redispatched": 1}
    (message,) = drain(pipeline["EXECUTE_QUEUE_URL"])
    assert message == {"kind": "execute", "jobId": job["id"], "attempt": 1}
    boto3.client("sqs", region_name="us-east-1").send_message(
        QueueUrl=pipeline["EXECUTE_QUEUE_URL"], MessageBody=json.dumps(message)
    )
    run_queues(pipeline)
    final, logs = job_state(api, job["id"])
    assert final["status"] == "COMPLETED" and final["attempt"] == 1
    assert any(log["actor"] == "sweeper" and "sent again" in log["message"] for log in logs)
    assert len(agent_server.requests_to("/fast")) == 1


def test_sweeper_does_not_redispatch_while_the_queue_holds_messages(
    pipeline: dict[str, str], api: Api, admin: Api, agent_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    agent_id = register_agent(admin, agent_server.url("/fast"))
    job = create_job(api, agent_id)  # its message waits on the execute queue (a backlog, a stopped worker)
    age(job["id"], 700)
    summary, found = scheduled(capsys)
    assert summary["sweeper"]["waiting"] == [job["id"]] and summary["sweeper"]["redispatched"] == []
    assert depth(pipeline["EXECUTE_QUEUE_URL"]) == (1, 0)
    assert values(found, "SweptJobs") == {}


def test_sweeper_revalidates_an_answered_job_whose_verdict_was_lost(
    pipeline: dict[str, str], api: Api, admin: Api, agent_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    agent_id = register_agent(admin, agent_server.url("/fast"))
    job = create_job(api, agent_id)
    deliver(pipeline["EXECUTE_QUEUE_URL"], "execute_job")  # the agent answers
    assert len(drain(pipeline["VALIDATE_QUEUE_URL"])) == 1  # the validate message is lost
    age(job["id"], 700)
    _age_logs(job["id"], 700)

    summary, _ = scheduled(capsys)

    assert summary["sweeper"]["revalidated"] == [job["id"]]
    run_queues(pipeline)
    assert job_state(api, job["id"])[0]["status"] == "COMPLETED"
    assert len(agent_server.requests_to("/fast")) == 1  # the agent is not called again


def _age_logs(job_id: str, seconds: int) -> None:
    from agent_jobs.repositories.tables import JobLogRecord

    past = iso(datetime.now(UTC) - timedelta(seconds=seconds))
    for record in JobLogRecord.query(job_id):
        record.update(actions=[JobLogRecord.created_at.set(past)])


def test_sweeper_leaves_jobs_waiting_for_a_checkpoint(
    aws: dict[str, str], api: Api, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWEEPER_MAX_JOBS_PER_RUN", "1")
    reset()
    waiting = pending_job(api, jobType="code-generation")
    move(waiting, ASSIGN, START)
    now = iso(datetime.now(UTC))
    services().checkpoints.create(
        Checkpoint(
            id="cp-wait",
            job_id=waiting,
            user_id="alice",
            job_type="code-generation",
            stage="code-review",
            attempt=1,
            expires_at=iso(datetime.now(UTC) + timedelta(hours=24)),
            created_at=now,
            updated_at=now,
            task_token="t",
        )
    )
    age(waiting, 3 * 3600)
    stuck = pending_job(api)  # a plain job, stuck for less long: the waiting one must not hide it
    move(stuck, ASSIGN, START)
    job = services().jobs.get(stuck)
    assert job is not None
    services().jobs.claim_dispatch(job)
    age(stuck, 700)

    summary, found = scheduled(capsys)

    assert summary["sweeper"]["waiting"] == [waiting] and summary["sweeper"]["failed"] == [stuck]
    assert services().jobs.get(waiting).status == JobStatus.IN_PROGRESS  # type: ignore[union-attr]
    assert services().jobs.get(stuck).status == JobStatus.FAILED  # type: ignore[union-attr]
    assert depth(aws["EXECUTE_QUEUE_URL"]) == (0, 0)
    assert values(found, "SweptJobs", "action") == {"failed": 1}


def test_sweeper_leaves_workflow_jobs_to_their_timeouts_then_fails_a_dead_one(
    aws: dict[str, str], api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    job_id = pending_job(api, jobType="data-processing")
    move(job_id, ASSIGN, START)  # no execution was ever started for it
    age(job_id, 700)
    summary, _ = scheduled(capsys)
    assert summary["sweeper"]["waiting"] == [job_id] and summary["sweeper"]["redispatched"] == []
    assert depth(aws["EXECUTE_QUEUE_URL"]) == (0, 0)
    age(job_id, 700 + 15 * 60 + 5)  # past the workflow's validate timeout as well
    summary, found = scheduled(capsys)
    assert summary["sweeper"]["failed"] == [job_id]
    final = services().jobs.get(job_id)
    assert final is not None and final.status == JobStatus.FAILED
    assert services().jobs.logs(job_id)[-1].message == "no result within 1560 s (sweeper)"
    assert values(found, "JobsFailed", "jobType") == {"data-processing": 1}


def test_scheduled_run_expires_overdue_checkpoints(
    aws: dict[str, str], api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    job_id = pending_job(api, jobType="code-generation")
    move(job_id, ASSIGN, START)
    created = iso(datetime.now(UTC) - timedelta(hours=25))
    services().checkpoints.create(
        Checkpoint(
            id="cp-overdue",
            job_id=job_id,
            user_id="alice",
            job_type="code-generation",
            stage="code-review",
            attempt=1,
            expires_at=iso(datetime.now(UTC) - timedelta(hours=1)),
            created_at=created,
            updated_at=created,
            task_token="token-the-state-machine-forgot",
        )
    )
    summary, found = scheduled(capsys)
    assert summary["sweeper"]["checkpointsExpired"] == 1
    assert services().jobs.get(job_id).status == JobStatus.REJECTED  # type: ignore[union-attr]
    assert values(found, "CheckpointsExpired", "jobType") == {"code-generation": 1}
    assert values(found, "JobsRejected", "jobType") == {"code-generation": 1}
    (wait,) = values(found, "CheckpointWaitSeconds", "outcome").items()
    assert wait[0] == "expired" and wait[1] >= 25 * 3600 - 60
    assert values(found, "PendingCheckpoints") == {None: 0}  # the gauges run after the sweeper


# --- worker control ---------------------------------------------------------------------------------------


def test_worker_status(workers: dict[str, str], admin: Api, api: Api) -> None:
    pending_job(api)
    reply = admin.get(WORKER)
    assert reply.status == 200, reply.body
    body = reply.body
    assert body["success"] is True
    worker = body["worker"]
    assert worker["isRunning"] is True and worker["maxConcurrentJobs"] == 5
    assert worker["activeJobs"] == 0 and worker["queuedJobs"] == 0
    assert worker["pollInterval"] is None and "long-poll" in worker["pollIntervalNote"]
    assert [(m["queue"], m["state"], m["batchSize"], m["maximumConcurrency"]) for m in worker["mappings"]] == [
        ("execute", "Enabled", 10, 5),
        ("execute-high", "Enabled", 10, 5),
    ]
    assert body["jobs"] == {"pending": 1, "running": 0, "completed": 0, "failed": 0}


def test_worker_stop_keeps_jobs_queued_and_start_processes_them(
    workers: dict[str, str], pipeline: dict[str, str], api: Api, admin: Api, agent_server: Any
) -> None:
    agent_id = register_agent(admin, agent_server.url("/fast"))
    stopped = admin.delete(WORKER)
    assert stopped.status == 200 and stopped.body["worker"]["isRunning"] is False
    assert {m["state"] for m in stopped.body["worker"]["mappings"]} == {"Disabled"}

    jobs = [create_job(api, agent_id), create_job(api, agent_id, priority=9)]
    run_enabled(workers)  # the validate/checkpoint mappings still run; the execute ones do not
    assert agent_server.requests == []
    status = admin.get(WORKER).body
    assert status["worker"]["queuedJobs"] == 2 and status["jobs"]["running"] == 2
    assert status["worker"]["queues"] == {
        "execute": {"visible": 1, "inFlight": 0},
        "execute-high": {"visible": 1, "inFlight": 0},
    }

    started = admin.post(WORKER)
    assert started.status == 200 and started.body["worker"]["isRunning"] is True
    run_enabled(workers)
    for job in jobs:
        assert job_state(api, job["id"])[0]["status"] == "COMPLETED"
    assert admin.get(WORKER).body["jobs"] == {"pending": 0, "running": 0, "completed": 2, "failed": 0}


def test_worker_stop_leaves_the_dlq_mappings_alone(workers: dict[str, str], admin: Api) -> None:
    assert admin.delete(WORKER).status == 200
    assert not _mapping_enabled(workers["EXECUTE_QUEUE_URL"])
    assert not _mapping_enabled(workers["EXECUTE_HIGH_QUEUE_URL"])
    assert _mapping_enabled(workers["EXECUTE_QUEUE_DLQ_URL"])
    assert _mapping_enabled(workers["VALIDATE_QUEUE_URL"])


def test_put_max_concurrent_jobs(workers: dict[str, str], admin: Api) -> None:
    reply = admin.put(WORKER, {"maxConcurrentJobs": 20})
    assert reply.status == 200, reply.body
    assert reply.body["worker"]["maxConcurrentJobs"] == 20
    lambda_ = boto3.client("lambda", region_name="us-east-1")
    for mapping in reply.body["worker"]["mappings"]:
        read_back = lambda_.get_event_source_mapping(UUID=mapping["uuid"])
        assert read_back["ScalingConfig"] == {"MaximumConcurrency": 20}
    assert {m["queue"] for m in reply.body["worker"]["mappings"]} == set(EXECUTE_QUEUE_KEYS)


@pytest.mark.parametrize(
    "body", [{"maxConcurrentJobs": 1}, {"maxConcurrentJobs": 5000}, {}, {"maxConcurrentJobs": "x"}]
)
def test_put_max_concurrent_jobs_out_of_range(workers: dict[str, str], admin: Api, body: dict[str, Any]) -> None:
    reply = admin.put(WORKER, body)
    assert reply.status == 400, reply.body
    assert reply.body["success"] is False and reply.body["error"]["field"] == "maxConcurrentJobs"
    assert admin.get(WORKER).body["worker"]["maxConcurrentJobs"] == 5


def test_worker_without_mappings_answers_503_on_change(aws: dict[str, str], admin: Api) -> None:
    status = admin.get(WORKER)
    assert status.status == 200 and status.body["worker"]["isRunning"] is False
    assert status.body["worker"]["mappings"] == []
    assert admin.post(WORKER).status == 503


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", WORKER, None),
        ("POST", WORKER, None),
        ("DELETE", WORKER, None),
        ("PUT", WORKER, {"maxConcurrentJobs": 3}),
        ("GET", STATS, None),
    ],
)
def test_operations_routes_are_admin_only(workers: dict[str, str], api: Api, method: str, path: str, body: Any) -> None:
    reply = api.call(method, path, body)
    assert reply.status == 403 and reply.body["error"]["code"] == "FORBIDDEN"
    assert Api(None).call(method, path, body).status == 401
    assert _mapping_enabled(workers["EXECUTE_QUEUE_URL"])  # nothing changed


# --- stats and the metrics of a real run ---------------------------------------------------------------------


def test_stats_after_jobs_complete(
    pipeline: dict[str, str],
    api: Api,
    admin: Api,
    agent_server: Any,
    judge_script: Script,
    capsys: pytest.CaptureFixture[str],
) -> None:
    judge_script._replies.extend([fail_reply("the summary does not mention the user id")])
    first = register_agent(admin, agent_server.url("/fast"), name="first")
    second = register_agent(admin, agent_server.url("/slow?seconds=0.2"), name="second")
    capsys.readouterr()
    job_a = create_job(api, first)
    run_queues(pipeline)  # attempt 1 fails the judge, attempt 2 passes
    job_b = create_job(api, second)
    run_queues(pipeline)
    pending_job(api, jobType="data-processing")
    found = emitted(capsys.readouterr().out)

    reply = admin.get(STATS)
    assert reply.status == 200, reply.body
    stats = reply.body["stats"]
    assert stats["jobsByStatus"] == {
        "PENDING": 1,
        "ASSIGNED": 0,
        "IN_PROGRESS": 0,
        "COMPLETED": 2,
        "FAILED": 0,
        "REJECTED": 0,
        "RESUBMISSION_REQUIRED": 0,
    }
    assert stats["jobsByType"] == {"simple-task": 2, "data-processing": 1}
    assert stats["window"]["jobs"] == 3 and stats["window"]["agentJobs"] == 2
    assert stats["pendingCheckpoints"] == 0 and stats["oldestPendingCheckpointAgeSeconds"] is None
    assert stats["queues"] == {q.key: {"visible": 0, "inFlight": 0, "dlq": 0} for q in QUEUES}
    agents = {a["agentId"]: a for a in stats["agents"]}
    assert agents[first]["name"] == "first" and agents[first]["jobs"] == 1
    assert agents[first]["answers"] == 2 and agents[first]["judged"] == 2 and agents[first]["acceptanceRate"] == 0.5
    assert agents[second]["acceptanceRate"] == 1.0 and agents[second]["answers"] == 1
    assert agents[second]["medianLatencyMs"] >= 200 > agents[first]["medianLatencyMs"] >= 0
    logs = job_state(api, job_b["id"])[1]
    assert next(log["latencyMs"] for log in logs if log["status"] == "AGENT_RESPONSE") >= 200

    # the metrics the run emitted, one per event, at the place it happened
    counts: dict[str, float] = {}
    for metric in found:
        counts[metric.name] = counts.get(metric.name, 0) + 1
    assert counts["JobsCreated"] == 3 and counts["JobsCompleted"] == 2 and counts["JobsRetried"] == 1
    assert counts["JobDurationSeconds"] == 2 and counts["AgentCallLatencyMs"] == 3
    assert sorted(m.dimensions["verdict"] for m in found if m.name == "JudgeVerdicts") == ["fail", "pass", "pass"]
    assert {m.dimensions["task"] for m in found if m.name in {"JudgeLatencyMs", "JudgeTokens"}} == {"validate"}
    assert all(m.value > 0 for m in found if m.name == "JudgeTokens")
    assert "AgentCallErrors" not in counts
    assert job_a["id"] not in json.dumps([m.dimensions for m in found])  # no high-cardinality dimension


def test_agent_errors_are_counted(
    pipeline: dict[str, str], api: Api, admin: Api, agent_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    agent_id = register_agent(admin, agent_server.url("/garbage"))
    capsys.readouterr()
    create_job(api, agent_id)
    run_queues(pipeline)
    found = emitted(capsys.readouterr().out)
    assert values(found, "AgentCallErrors", "jobType") == {"simple-task": 1}
    assert values(found, "JobsFailed", "jobType") == {"simple-task": 1}
    assert not [m for m in found if m.name == "AgentCallLatencyMs"]


@pytest.fixture(autouse=True)
def _quiet_metrics() -> Iterator[None]:
    from agent_jobs.observability import metrics

    metrics.clear_metrics()
    yield
    metrics.clear_metrics()
