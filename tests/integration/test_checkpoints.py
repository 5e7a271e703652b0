"""Human checkpoints on moto with real Step Functions execution: the seed 004 workflow, asserted through the
API, and its waits (one short execution per checkpoint, named job-attempt-stage) through their histories."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from agent_jobs.services import reset
from tests.fixtures.agent_server import AgentServer
from tests.fixtures.checkpoint_waits import wait_history, wait_status, waits_of
from tests.fixtures.openai_server import OpenAICompatServer, pass_reply
from tests.integration.conftest import Api, run_queues, run_until

SECRET = "whsec-test-secret-0123456789"
CODE_FILES = [{"path": "lib/auth.ts", "content": "export function authenticate() { return true; }"}]


@pytest.fixture
def stack(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    judge = OpenAICompatServer(lambda request: pass_reply())
    judge.start()
    with AgentServer(secret=SECRET) as agents:
        for name, value in {
            "ALLOW_LOOPBACK_HTTP_AGENTS": "true",
            "OPENAI_BASE_URL": judge.base_url,
            "OPENAI_API_KEY": "test-key",
            "AGENT_RETRY_BASE_SECONDS": "0.01",
        }.items():
            monkeypatch.setenv(name, value)
        reset()
        yield {"env": aws, "agents": agents, "judge": judge}
    judge.stop()


def register(admin: Api, url: str, job_type: str) -> str:
    reply = admin.post(
        "/api/admin/agents",
        {"name": f"{job_type}-agent", "endpointUrl": url, "secret": SECRET, "jobTypes": [job_type]},
    )
    assert reply.status == 201, reply.body
    return str(reply.body["agent"]["id"])


def create(api: Api, agent_id: str, job_type: str, **extra: Any) -> str:
    body = {
        "jobType": job_type,
        "taskDescription": "Generate authentication module",
        "acceptanceCriteria": "The files implement authentication",
        "inputData": {"files": CODE_FILES, "description": "User authentication module"},
        "priority": 8,
        "agentId": agent_id,
        **extra,
    }
    reply = api.post("/api/agent-jobs", body)
    assert reply.status == 201, reply.body
    return str(reply.body["job"]["id"])


def status_of(api: Api, job_id: str) -> str:
    return str(api.get(f"/api/agent-jobs/{job_id}").body["job"]["status"])


def pending_checkpoints(api: Api, job_id: str) -> list[dict[str, Any]]:
    reply = api.get(f"/api/agent-jobs/{job_id}/checkpoints")
    assert reply.status == 200, reply.body
    return [c for c in reply.body["checkpoints"] if c["status"] == "PENDING"]


def history(job_id: str, attempt: int = 1) -> list[str]:
    """The states the attempt's code-review wait entered."""
    return wait_history(job_id, attempt)


def test_code_generation_complete_workflow(stack: dict[str, Any], api: Api, admin: Api) -> None:
    """Seed 004's "Complete Workflow Example": create → checkpoint appears → approve → COMPLETED."""
    env = stack["env"]
    job_id = create(api, register(admin, stack["agents"].url("/fast"), "code-generation"), "code-generation")
    run_until(env, lambda: bool(pending_checkpoints(api, job_id)))
    (checkpoint,) = pending_checkpoints(api, job_id)
    assert checkpoint["stage"] == "code-review" and "taskToken" not in checkpoint
    assert checkpoint["data"]["result"]["files"] == CODE_FILES  # the admin reviews the generated files
    detail = api.get(f"/api/jobs/{job_id}").body
    assert detail["job"]["status"] == "IN_PROGRESS"
    assert detail["job"]["waitingFor"]["checkpoint"]["id"] == checkpoint["id"]
    listed = admin.get("/api/admin/agent-checkpoints").body["checkpoints"]
    assert [c["id"] for c in listed] == [checkpoint["id"]]
    shown = admin.get(f"/api/admin/agent-checkpoints/{checkpoint['id']}").body
    assert shown["job"]["id"] == job_id and shown["logs"]

    approved = admin.post(f"/api/admin/agent-checkpoints/{checkpoint['id']}")
    assert approved.status == 200, approved.body
    assert approved.body["checkpoint"]["status"] == "APPROVED"
    assert approved.body["checkpoint"]["approvedBy"] == "root-admin" and approved.body["checkpoint"]["approvedAt"]
    run_until(env, lambda: status_of(api, job_id) == "COMPLETED")
    # execute and validate rode the queues; Step Functions ran the one wait: one state, then done
    run_until(env, lambda: wait_status(job_id) == "SUCCEEDED")
    assert waits_of(job_id) == [f"{job_id}-1-code-review"] and history(job_id) == ["AwaitDecision"]
    job = api.get(f"/api/jobs/{job_id}").body["job"]
    assert job["result"]["result"]["files"] == CODE_FILES and job["waitingFor"] is None


def test_data_processing_approves_every_checkpoint(stack: dict[str, Any], api: Api, admin: Api) -> None:
    env = stack["env"]
    job_id = create(api, register(admin, stack["agents"].url("/fast"), "data-processing"), "data-processing")
    stages = []
    for _ in range(2):
        run_until(env, lambda: bool(pending_checkpoints(api, job_id)))
        (checkpoint,) = pending_checkpoints(api, job_id)
        stages.append(checkpoint["stage"])
        assert admin.post(f"/api/admin/agent-checkpoints/{checkpoint['id']}").status == 200
    run_until(env, lambda: status_of(api, job_id) == "COMPLETED")
    assert stages == ["output-review", "final-review"]
    assert waits_of(job_id) == sorted(f"{job_id}-1-{stage}" for stage in stages)  # one short wait each
    all_checkpoints = api.get(f"/api/jobs/{job_id}/checkpoints").body["checkpoints"]
    assert sorted(c["status"] for c in all_checkpoints) == ["APPROVED", "APPROVED"]


def test_reject_rejects_the_job_with_the_reason(stack: dict[str, Any], api: Api, admin: Api) -> None:
    env = stack["env"]
    job_id = create(api, register(admin, stack["agents"].url("/fast"), "code-generation"), "code-generation")
    run_until(env, lambda: bool(pending_checkpoints(api, job_id)))
    (checkpoint,) = pending_checkpoints(api, job_id)
    assert admin.delete(f"/api/admin/agent-checkpoints/{checkpoint['id']}", {}).status == 400  # reason required
    reply = admin.delete(
        f"/api/admin/agent-checkpoints/{checkpoint['id']}", {"reason": "Code doesn't meet security standards"}
    )
    assert reply.status == 200, reply.body
    assert reply.body["checkpoint"]["rejectionReason"] == "Code doesn't meet security standards"
    detail = api.get(f"/api/jobs/{job_id}").body
    assert detail["job"]["status"] == "REJECTED"
    assert "security standards" in detail["logs"][-1]["message"]
    run_until(env, lambda: wait_status(job_id) == "FAILED")  # SendTaskFailure ended the wait


def test_checkpoint_expires(stack: dict[str, Any], api: Api, admin: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHECKPOINT_TIMEOUT_SECONDS", "1")
    reset()
    env = stack["env"]
    job_id = create(api, register(admin, stack["agents"].url("/fast"), "code-generation"), "code-generation")
    run_until(env, lambda: status_of(api, job_id) == "REJECTED", timeout=30)
    (checkpoint,) = api.get(f"/api/jobs/{job_id}/checkpoints").body["checkpoints"]
    assert checkpoint["status"] == "EXPIRED"
    assert "expired" in api.get(f"/api/jobs/{job_id}").body["logs"][-1]["message"]
    assert history(job_id) == ["AwaitDecision", "ReportExpired"]  # the wait's timer sent the expiry notice


def test_an_expiry_notice_that_overtakes_its_checkpoint_still_rejects_the_job(
    stack: dict[str, Any], api: Api, admin: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wait's timer covers the send of the checkpoint message, and a standard queue keeps no order: the
    workflow's "checkpoint-expired" can reach us before the "checkpoint" it ends (seen on a loaded machine,
    where moto's timer fired before its own send finished). The job is REJECTED all the same, and the late
    "checkpoint" message raises nothing an admin could still approve."""
    from agent_jobs.catalog import QUEUES
    from agent_jobs.domain.gauges import queue_depth
    from tests.integration.conftest import deliver

    monkeypatch.setenv("CHECKPOINT_TIMEOUT_SECONDS", "1")
    reset()
    env = stack["env"]
    checkpoint_queue = env["CHECKPOINT_QUEUE_URL"]
    job_id = create(api, register(admin, stack["agents"].url("/fast"), "code-generation"), "code-generation")
    sqs = boto3.client("sqs", region_name=env["AWS_REGION"])
    others = [spec for spec in QUEUES if env[spec.setting.upper()] != checkpoint_queue]

    deadline = time.monotonic() + 30
    while queue_depth(checkpoint_queue).visible < 2:  # both notices: the wait was raised and then timed out
        assert time.monotonic() < deadline, "the workflow never reached its checkpoint and timed out"
        for spec in others:  # everything but the checkpoint queue moves, so the workflow reaches its wait
            deliver(env[spec.setting.upper()], spec.consumer)
        time.sleep(0.05)
    received = sqs.receive_message(QueueUrl=checkpoint_queue, MaxNumberOfMessages=10, AttributeNames=["All"])
    notices = sorted(received["Messages"], key=lambda m: json.loads(m["Body"])["kind"] != "checkpoint-expired")
    assert [json.loads(m["Body"])["kind"] for m in notices] == ["checkpoint-expired", "checkpoint"]
    for notice in notices:  # the expiry first, then the checkpoint it ends: each its own delivery
        sqs.send_message(QueueUrl=checkpoint_queue, MessageBody=notice["Body"])
        sqs.delete_message(QueueUrl=checkpoint_queue, ReceiptHandle=notice["ReceiptHandle"])
        assert deliver(checkpoint_queue, "checkpoints") == 1

    run_until(env, lambda: status_of(api, job_id) == "REJECTED", timeout=30)
    (checkpoint,) = api.get(f"/api/jobs/{job_id}/checkpoints").body["checkpoints"]
    assert checkpoint["status"] == "EXPIRED"
    assert admin.post(f"/api/admin/agent-checkpoints/{checkpoint['id']}").status == 409


def test_racing_decisions_one_wins(stack: dict[str, Any], api: Api, admin: Api) -> None:
    """Two admins decide from the same PENDING view: the decision is a conditional write, so exactly one
    wins and the loser gets 409 (moto's in-process store is not atomic across threads, so the race is
    played with two stale copies of the checkpoint instead of two threads)."""
    from agent_jobs.domain import checkpoints as domain
    from agent_jobs.domain.auth import Principal
    from agent_jobs.errors import Conflict
    from agent_jobs.services import services

    env = stack["env"]
    job_id = create(api, register(admin, stack["agents"].url("/fast"), "code-generation"), "code-generation")
    run_until(env, lambda: bool(pending_checkpoints(api, job_id)))
    (checkpoint,) = pending_checkpoints(api, job_id)
    seen_by_first = services().checkpoints.get(checkpoint["id"])
    seen_by_second = services().checkpoints.get(checkpoint["id"])
    assert seen_by_first is not None and seen_by_second is not None
    services().checkpoints.decide(seen_by_first, domain.CheckpointStatus.APPROVED, {"approved_by": "a1"})
    with pytest.raises(Conflict):
        services().checkpoints.decide(seen_by_second, domain.CheckpointStatus.REJECTED, {"rejected_by": "a2"})
    # through the API: the second decision is refused and sends nothing to Step Functions
    path = f"/api/admin/agent-checkpoints/{checkpoint['id']}"
    refused = admin.delete(path, {"reason": "too late"})
    assert refused.status == 409, refused.body
    assert "already decided" in refused.body["error"]["message"]
    assert admin.get(path).body["checkpoint"]["status"] == "APPROVED"
    assert Principal("a1", frozenset({"admins"})).is_admin


def test_access_rules(stack: dict[str, Any], api: Api, admin: Api) -> None:
    env = stack["env"]
    job_id = create(api, register(admin, stack["agents"].url("/fast"), "code-generation"), "code-generation")
    run_until(env, lambda: bool(pending_checkpoints(api, job_id)))
    (checkpoint,) = pending_checkpoints(api, job_id)
    assert api.post(f"/api/admin/agent-checkpoints/{checkpoint['id']}").status == 403
    assert api.get("/api/admin/agent-checkpoints").status == 403
    assert api.as_user("mallory").get(f"/api/agent-jobs/{job_id}/checkpoints").status == 404
    assert api.as_user(None).get(f"/api/agent-jobs/{job_id}/checkpoints").status == 401
    assert admin.post("/api/admin/agent-checkpoints/nope").status == 404
    assert pending_checkpoints(api, job_id)[0]["status"] == "PENDING"


def test_simple_task_has_no_checkpoint(stack: dict[str, Any], api: Api, admin: Api) -> None:
    env = stack["env"]
    job_id = create(api, register(admin, stack["agents"].url("/fast"), "simple-task"), "simple-task", priority=5)
    run_until(env, lambda: status_of(api, job_id) == "COMPLETED")
    assert api.get(f"/api/jobs/{job_id}/checkpoints").body["checkpoints"] == []


# --- leases and lost starts (issue 12 items 1 and 22) ----------------------------------------------------------


def test_a_throttled_start_execution_is_retried(stack: dict[str, Any], api: Api, admin: Api) -> None:
    """StartExecution of the checkpoint's wait throttled twice after the judge passed: the start is retried with
    backoff and the wait runs, instead of the validate message failing."""
    from agent_jobs.integrations.aws import client
    from tests.fixtures.faults import failing

    job_id = create(api, register(admin, stack["agents"].url("/fast"), "code-generation"), "code-generation")
    with failing(client("stepfunctions"), "StartExecution", times=2) as fault:
        run_until(stack["env"], lambda: bool(pending_checkpoints(api, job_id)))
    assert fault.failed == 2
    assert waits_of(job_id) == [f"{job_id}-1-code-review"]


def test_reaching_the_checkpoint_twice_starts_one_wait(stack: dict[str, Any], api: Api, admin: Api) -> None:
    """The validate message that reached the checkpoint delivered again (SQS is at least once), and the start
    repeated directly: the wait's name is job, attempt and stage, so Step Functions refuses the second start and
    the job keeps its one PENDING checkpoint."""
    from agent_jobs.services import services

    env = stack["env"]
    job_id = create(api, register(admin, stack["agents"].url("/fast"), "code-generation"), "code-generation")
    run_until(env, lambda: bool(pending_checkpoints(api, job_id)))
    sqs = boto3.client("sqs", region_name="us-east-1")
    body = json.dumps({"kind": "validate", "jobId": job_id, "attempt": 1})
    sqs.send_message(QueueUrl=env["VALIDATE_QUEUE_URL"], MessageBody=body)
    job = services().jobs.get(job_id)
    assert job is not None
    services().dispatcher.start_checkpoint_wait(job, "code-review")
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:  # whatever a second execution would send, the queues pass it on
        run_queues(env)
        time.sleep(0.1)
    assert waits_of(job_id) == [f"{job_id}-1-code-review"] and wait_status(job_id) == "RUNNING"
    logs = api.get(f"/api/jobs/{job_id}/logs").body["logs"]
    assert [log["status"] for log in logs].count("VALIDATION") == 1, logs  # the duplicate was not judged again
    (checkpoint,) = pending_checkpoints(api, job_id)
    assert admin.post(f"/api/admin/agent-checkpoints/{checkpoint['id']}").status == 200
    run_until(env, lambda: status_of(api, job_id) == "COMPLETED")


def test_a_checkpoint_job_past_its_lease_fails_like_any_job(stack: dict[str, Any], api: Api, admin: Api) -> None:
    """The execute function claimed the attempt of a job with checkpoints and died. Its steps ride the queues
    like a simple job's: the sweeper fails the job when the lease expires, and no wait was ever started."""
    from datetime import UTC, datetime, timedelta

    from agent_jobs.domain.sweeper import iso, sweep
    from agent_jobs.services import services

    env = stack["env"]
    job_id = create(api, register(admin, stack["agents"].url("/fast"), "code-generation"), "code-generation")
    sqs = boto3.client("sqs", region_name="us-east-1")
    (message,) = sqs.receive_message(QueueUrl=env["EXECUTE_HIGH_QUEUE_URL"])["Messages"]
    assert json.loads(message["Body"]) == {"kind": "execute", "jobId": job_id, "attempt": 1}  # no task token
    job = services().jobs.get(job_id)
    assert job is not None
    claimed = datetime.now(UTC)
    services().jobs.claim_dispatch(job, claimed_at=iso(claimed), deadline=iso(claimed + timedelta(seconds=320)))
    sqs.delete_message(QueueUrl=env["EXECUTE_HIGH_QUEUE_URL"], ReceiptHandle=message["ReceiptHandle"])

    report = sweep(services(), claimed + timedelta(seconds=400), {})  # the clock, 400 s later

    assert report.failed == [job_id]
    assert status_of(api, job_id) == "FAILED"
    assert waits_of(job_id) == [] and stack["agents"].requests == []
