"""Issue 12 item 14: an auto-assign message carries the job's version when it was sent; a job that changed
since (its owner assigned it, then cancelled the assignment) drops it instead of being re-assigned."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from agent_jobs.services import reset
from tests.fixtures.agent_server import AgentServer
from tests.integration.conftest import Api, deliver, drain

SECRET = "s" * 24


def _send(queue_url: str, body: dict[str, object]) -> None:
    boto3.client("sqs", region_name="us-east-1").send_message(QueueUrl=queue_url, MessageBody=json.dumps(body))


def _statuses(api: Api, job_id: str) -> list[str]:
    return [log["status"] for log in api.get(f"/api/jobs/{job_id}/logs").body["logs"]]


@pytest.fixture
def agent_server() -> Iterator[AgentServer]:
    with AgentServer(secret=SECRET) as server:
        yield server


def test_a_stale_auto_assign_message_is_dropped(
    aws: dict[str, str], api: Api, admin: Api, agent_server: AgentServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTO_START_ON_ASSIGN", "false")
    monkeypatch.setenv("ALLOW_LOOPBACK_HTTP_AGENTS", "true")  # a real local agent passes its onboarding check
    reset()
    queue = aws["VALIDATE_QUEUE_URL"]
    agent = admin.post(
        "/api/admin/agents",
        {"name": "only", "endpointUrl": agent_server.url("/fast"), "secret": SECRET, "jobTypes": ["simple-task"]},
    )
    assert agent.status == 201, agent.body
    created = api.post("/api/jobs", {"description": "Summarise the report"})  # auto-assign requested
    assert created.status == 201, created.body
    job_id = created.body["job"]["id"]
    (late,) = drain(queue)  # the request the API sent is late: it is played below exactly as sent
    assert late == {"kind": "assign", "jobId": job_id, "version": created.body["job"]["version"]}

    assert api.post(f"/api/jobs/{job_id}/assign", {"agentId": agent.body["agent"]["id"]}).status == 200
    cancelled = api.post(f"/api/jobs/{job_id}/cancel")
    assert cancelled.status == 200 and cancelled.body["job"]["status"] == "PENDING"

    _send(queue, late)
    assert deliver(queue, "validate") == 1
    assert api.get(f"/api/jobs/{job_id}").body["job"]["status"] == "PENDING"  # the owner's cancel stands
    assert _statuses(api, job_id) == ["PENDING", "ASSIGNED", "CANCELLED"]

    # a request made for the job as it is now (POST /auto-assign) still assigns it
    _send(queue, {"kind": "assign", "jobId": job_id, "version": cancelled.body["job"]["version"]})
    assert deliver(queue, "validate") == 1
    job = api.get(f"/api/jobs/{job_id}").body["job"]
    assert job["status"] == "ASSIGNED" and job["assignedAgentId"] == agent.body["agent"]["id"]
