"""Operations on moto: the scheduled gauges and sweeper, worker start/stop/concurrency, the stats view, and
the metrics a real pipeline run emits."""
# ruff: noqa: F811 - the pipeline fixtures are imported from test_pipeline and requested by name

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from agent_jobs.catalog import EXECUTE_QUEUE_KEYS, QUEUES
from agent_jobs.domain.gauges import QueueDepth
from agent_jobs.domain.lifecycle import apply
from agent_jobs.domain.sweeper import iso, sweep
from agent_jobs.domain.transitions import JobEvent
from agent_jobs.models.base import parse_time
from agent_jobs.models.checkpoints import Checkpoint
from agent_jobs.models.jobs import JobStatus
from agent_jobs.repositories.tables import JobRecord
from agent_jobs.services import reset, services
from local.lambda_runtime import LocalContext, invoke
from local.provision import provision_functions
from tests.fixtures.openai_server import Script, fail_reply
from tests.integration.conftest import Api, deliver, drain, run_queues
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
STUCK = "no result within 660 s of the claim (sweeper)"


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
    capsys.readouterr()
    event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}, "resources": []}
    summary = invoke("metrics", event)
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
    # queue depths are read and logged, not emitted: AWS/SQS publishes them per queue for free (issue 13)
    assert not [m.name for m in found if m.name.startswith("Queue")]
    queues = summary["gauges"]["queues"]
    assert set(queues) == {q.key for q in QUEUES} | {f"{q.key}-dlq" for q in QUEUES}
    assert queues["validate"] == {"visible": 2, "inFlight": 1}
    assert queues["execute-dlq"]["visible"] == 1 and queues["execute"]["visible"] == 0
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


def claim(job_id: str, *, claimed_ago: float = 0, lease: float = 660) -> None:
    """Plays the execute step's claim of the job's attempt ``claimed_ago`` seconds ago, with a ``lease``."""
    job = services().jobs.get(job_id)
    assert job is not None
    claimed = datetime.now(UTC) - timedelta(seconds=claimed_ago)
    deadline = claimed + timedelta(seconds=lease)
    services().jobs.claim_dispatch(job, claimed_at=iso(claimed), deadline=iso(deadline))


def sweep_at(seconds_from_now: float) -> dict[str, Any]:
    """One sweeper run as if the clock showed ``seconds_from_now`` later (the queues' depths are not needed)."""
    return sweep(services(), datetime.now(UTC) + timedelta(seconds=seconds_from_now), {}).to_log()


def test_sweeper_fails_a_claimed_attempt_past_its_lease(
    pipeline: dict[str, str], api: Api, admin: Api, agent_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    agent_id = register_agent(admin, agent_server.url("/fast"))
    job = create_job(api, agent_id)
    drain(pipeline["EXECUTE_QUEUE_URL"])
    claim(job["id"], claimed_ago=700, lease=660)  # the execute function claimed the attempt, then died
    age(job["id"], 700)

    summary, found = scheduled(capsys)

    final, logs = job_state(api, job["id"])
    assert final["status"] == "FAILED"
    assert logs[-1]["status"] == "FAILED" and logs[-1]["message"] == STUCK and logs[-1]["actor"] == "sweeper"
    assert summary["sweeper"]["failed"] == [job["id"]]
    assert values(found, "SweptJobs", "action") == {"failed": 1}
    assert values(found, "JobsFailed", "jobType") == {"simple-task": 1}
    assert agent_server.requests == []


def test_time_spent_queued_never_fails_a_job_only_an_expired_lease_does(
    pipeline: dict[str, str], api: Api, admin: Api, agent_server: Any
) -> None:
    """Issue 12 item 1: a job that waited 12 minutes queued (a backlog, a stopped worker) and was claimed a
    moment ago is healthy while its agent works; it fails only once its own lease has passed."""
    agent_id = register_agent(admin, agent_server.url("/fast"))
    job = create_job(api, agent_id)
    drain(pipeline["EXECUTE_QUEUE_URL"])
    age(job["id"], 12 * 60)  # queued for 12 minutes
    claim(job["id"], claimed_ago=5, lease=320)  # then claimed: the agent is working on it now

    report = sweep_at(0)
    assert report["failed"] == [] and report["redispatched"] == []
    shown = job_state(api, job["id"])[0]
    assert shown["status"] == "IN_PROGRESS" and shown["claimedAt"] and shown["deadline"] > shown["claimedAt"]

    assert sweep_at(300)["failed"] == []  # still within the lease
    assert sweep_at(320)["failed"] == [job["id"]]  # past it
    assert job_state(api, job["id"])[1][-1]["message"] == "no result within 320 s of the claim (sweeper)"


def test_the_claim_stamps_a_lease_from_the_agent_and_the_function(
    pipeline: dict[str, str], api: Api, admin: Api, agent_server: Any
) -> None:
    """Every try at the agent's timeout (2 s x 3 + 2 Retry-After waits of 20 s), capped by what the invocation
    can spend (30 s left - 10 s to finish = 20 s), plus the 300 s margin. The invocation's clock runs from its
    start, so a loaded machine's slow start shortens the lease by seconds (317 s seen); uncapped it is 346 s."""
    agent_id = register_agent(admin, agent_server.url("/slow?seconds=0.2"))
    job = create_job(api, agent_id)
    deliver(pipeline["EXECUTE_QUEUE_URL"], "execute_job", context=LocalContext("execute_job", remaining_millis=30_000))
    stored = services().jobs.get(job["id"])
    assert stored is not None and stored.claimed_at and stored.deadline
    lease = (parse_time(stored.deadline) - parse_time(stored.claimed_at)).total_seconds()
    assert 310 <= lease <= 320
    run_queues(pipeline)
    assert job_state(api, job["id"])[0]["status"] == "COMPLETED"


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


def test_sweeper_resends_while_the_queue_is_busy_a_bounded_number_of_times(
    pipeline: dict[str, str], api: Api, admin: Api, agent_server: Any
) -> None:
    """Issue 12 item 10: under steady traffic the queue is never idle; the consumers are idempotent, so a lost
    message is re-sent anyway, spaced out (11, 22, 44 min queued) and at most three times; the duplicates are
    dropped by the claim and the agent is called once."""
    agent_id = register_agent(admin, agent_server.url("/fast"))
    job = create_job(api, agent_id)
    assert len(drain(pipeline["EXECUTE_QUEUE_URL"])) == 1  # lost
    busy = {"kind": "execute", "jobId": "someone-else", "attempt": 1}
    sqs = boto3.client("sqs", region_name="us-east-1")
    sqs.send_message(QueueUrl=pipeline["EXECUTE_QUEUE_URL"], MessageBody=json.dumps(busy))
    busy_depths = {"execute": QueueDepth(visible=1, in_flight=1)}

    def run(seconds: float) -> dict[str, Any]:
        return sweep(services(), datetime.now(UTC) + timedelta(seconds=seconds), busy_depths).to_log()

    assert run(600)["redispatched"] == []  # not yet: queued for less than 11 min
    assert run(661)["redispatched"] == [job["id"]]
    assert run(700)["redispatched"] == []  # spaced out
    assert run(1321)["redispatched"] == [job["id"]]
    assert run(2641)["redispatched"] == [job["id"]]
    exhausted = run(5281)
    assert exhausted["redispatched"] == [] and exhausted["waiting"] == [job["id"]]
    assert run(10**6)["failed"] == []  # queue time never fails it
    sent = [m for m in drain(pipeline["EXECUTE_QUEUE_URL"]) if m["jobId"] == job["id"]]
    assert len(sent) == 3
    for message in sent:
        sqs.send_message(QueueUrl=pipeline["EXECUTE_QUEUE_URL"], MessageBody=json.dumps(message))
    for _ in sent:  # one per invocation: moto's store is not atomic across a batch's threads
        deliver(pipeline["EXECUTE_QUEUE_URL"], "execute_job", max_messages=1)
    run_queues(pipeline)
    assert job_state(api, job["id"])[0]["status"] == "COMPLETED"
    assert len(agent_server.requests_to("/fast")) == 1


def test_sweeper_revalidates_an_answered_job_whose_verdict_was_lost_while_the_queue_is_busy(
    pipeline: dict[str, str], api: Api, admin: Api, agent_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    agent_id = register_agent(admin, agent_server.url("/fast"))
    job = create_job(api, agent_id)
    deliver(pipeline["EXECUTE_QUEUE_URL"], "execute_job")  # the agent answers
    assert len(drain(pipeline["VALIDATE_QUEUE_URL"])) == 1  # the validate message is lost
    sqs = boto3.client("sqs", region_name="us-east-1")
    busy = {"kind": "validate", "jobId": "someone-else", "attempt": 1}
    sqs.send_message(QueueUrl=pipeline["VALIDATE_QUEUE_URL"], MessageBody=json.dumps(busy))  # traffic
    age(job["id"], 700)
    _age_logs(job["id"], 700)

    summary, _ = scheduled(capsys)

    assert summary["sweeper"]["revalidated"] == [job["id"]]
    run_queues(pipeline)
    assert job_state(api, job["id"])[0]["status"] == "COMPLETED"
    assert len(agent_server.requests_to("/fast")) == 1  # the agent is not called again


def test_an_answer_never_judged_ends_in_resubmission_required(
    pipeline: dict[str, str], api: Api, admin: Api, agent_server: Any
) -> None:
    """No job stays IN_PROGRESS forever: once the validation requests are spent, the owner can resubmit."""
    agent_id = register_agent(admin, agent_server.url("/fast"))
    job = create_job(api, agent_id)
    deliver(pipeline["EXECUTE_QUEUE_URL"], "execute_job")
    drain(pipeline["VALIDATE_QUEUE_URL"])
    for seconds in (661, 1321, 2641):
        assert sweep_at(seconds)["revalidated"] == [job["id"]]
        drain(pipeline["VALIDATE_QUEUE_URL"])  # lost again
    assert sweep_at(5281)["failed"] == [job["id"]]
    final, logs = job_state(api, job["id"])
    assert final["status"] == "RESUBMISSION_REQUIRED"
    assert logs[-1]["message"] == "validation unavailable: no verdict after 3 validation requests (sweeper)"


def _age_logs(job_id: str, seconds: int) -> None:
    from agent_jobs.repositories.tables import JobLogRecord

    past = iso(datetime.now(UTC) - timedelta(seconds=seconds))
    for record in JobLogRecord.query(job_id):
        record.update(actions=[JobLogRecord.created_at.set(past)])


def test_sweeper_continues_from_a_cursor_so_a_dead_job_behind_waiting_ones_is_reached(
    pipeline: dict[str, str], api: Api, admin: Api, agent_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12 item 12: with a budget of 2 candidates per run and two older jobs waiting (queued behind a
    stopped worker), the dead job behind them is examined by the next run instead of never."""
    monkeypatch.setenv("SWEEPER_MAX_JOBS_PER_RUN", "2")
    reset()
    agent_id = register_agent(admin, agent_server.url("/fast"))
    waiting = [create_job(api, agent_id)["id"] for _ in range(2)]  # their messages wait on the queue
    for job_id in waiting:
        age(job_id, 3 * 3600)
    dead = create_job(api, agent_id)["id"]
    claim(dead, claimed_ago=700, lease=660)
    age(dead, 700)

    first = sweep_at(0)
    assert first["examined"] == 2 and first["more"] is True and first["failed"] == []
    second = sweep_at(0)
    assert second["failed"] == [dead] and second["more"] is False
    third = sweep_at(0)  # the end was reached: start from the oldest again
    assert third["examined"] == 2
    assert services().jobs.get(dead).status == JobStatus.FAILED  # type: ignore[union-attr]


def test_sweeper_leaves_jobs_waiting_for_a_checkpoint(
    aws: dict[str, str], api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    waiting = pending_job(api, jobType="code-generation")
    move(waiting, ASSIGN, START)
    claim(waiting, claimed_ago=3 * 3600, lease=660)
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

    summary, found = scheduled(capsys)

    assert summary["sweeper"]["waiting"] == [waiting] and summary["sweeper"]["failed"] == []
    assert services().jobs.get(waiting).status == JobStatus.IN_PROGRESS  # type: ignore[union-attr]
    assert values(found, "SweptJobs") == {}


def test_sweeper_resends_a_checkpoint_job_whose_execute_message_was_lost(
    aws: dict[str, str], api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 12 item 22: the start of a job with checkpoints was lost after it went IN_PROGRESS. Its steps ride
    the queues like a simple job's, so the sweeper sends its execute message again (the claim drops a duplicate)
    instead of failing the job 26 minutes later; no checkpoint wait exists before its agent answers."""
    from tests.integration.conftest import drain

    job_id = pending_job(api, jobType="data-processing")
    move(job_id, ASSIGN, START)  # no execute message was ever sent for it
    age(job_id, 700)

    summary, _ = scheduled(capsys)

    assert summary["sweeper"]["redispatched"] == [job_id]
    assert {"kind": "execute", "jobId": job_id, "attempt": 1} in drain(aws["EXECUTE_QUEUE_URL"])
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    assert sfn.list_executions(stateMachineArn=aws["CHECKPOINT_STATE_MACHINE_ARN"])["executions"] == []
    assert sweep_at(10**6)["failed"] == []  # a queued job is never failed for waiting
    assert services().jobs.get(job_id).status == JobStatus.IN_PROGRESS  # type: ignore[union-attr]


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


def test_worker_reports_disabling_until_every_mapping_is_off(workers: dict[str, str], admin: Api) -> None:
    """Issue 12 item 20: Lambda answers a stop with ``Disabling`` and may still start batches its pollers had
    received; the API says so instead of claiming the worker is off."""
    from agent_jobs.domain.worker import Mapping, worker_state

    def of(*states: str) -> str:
        return worker_state([Mapping(f"u{i}", "execute", state, 10, 5) for i, state in enumerate(states)])

    assert of("Disabling", "Disabled") == "Disabling"
    assert of("Enabled", "Disabling") == "Disabling"
    assert of("Disabled", "Disabled") == "Disabled" and of("Enabled", "Enabled") == "Enabled"
    assert of("Enabling", "Enabled") == "Enabling"
    assert admin.get(WORKER).body["worker"]["state"] == "Enabled"
    stopped = admin.delete(WORKER).body
    assert stopped["worker"]["state"] == "Disabled" and stopped["message"].startswith("worker stopped")
    assert admin.post(WORKER).body["worker"]["state"] == "Enabled"


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
        "CANCELLED": 0,
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


def test_sweeper_counts_a_reviewed_answer_from_its_approval(
    pipeline: dict[str, str], api: Api, admin: Api, agent_server: Any
) -> None:
    """data-processing: the answer was reviewed for hours at output-review and approved a moment ago, which sent
    the validate message. The sweeper counts from the approval, not the answer: no second judge request now,
    one once that message is overdue (it was lost)."""
    from agent_jobs.models.checkpoints import CheckpointStatus

    agent_id = register_agent(admin, agent_server.url("/fast"), jobTypes=["data-processing"])
    job = create_job(api, agent_id, jobType="data-processing")
    deliver(pipeline["EXECUTE_QUEUE_URL"], "execute_job")  # the agent answers; the output-review wait starts
    now = iso(datetime.now(UTC))
    services().checkpoints.create(
        Checkpoint(
            id=f"{job['id']}-1-output-review",
            job_id=job["id"],
            user_id="alice",
            job_type="data-processing",
            stage="output-review",
            attempt=1,
            status=CheckpointStatus.APPROVED,
            decided_at=now,
            expires_at=iso(datetime.now(UTC) + timedelta(hours=21)),
            created_at=iso(datetime.now(UTC) - timedelta(hours=3)),
            updated_at=now,
        )
    )
    drain(pipeline["VALIDATE_QUEUE_URL"])  # the approval's validate message is lost
    age(job["id"], 3 * 3600)
    _age_logs(job["id"], 3 * 3600)

    assert sweep_at(0)["revalidated"] == []
    assert sweep_at(700)["revalidated"] == [job["id"]]
