"""DESIGN.md §15 end to end on the local stack: a user subscribes over the WebSocket, creates a job, and sees its
events as frames (job.created → job.status_changed … → job.completed) while the example webhook receiver
(examples/webhook_receiver.py) gets the same events, signed, in the same order."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from examples.webhook_receiver import WebhookReceiver
from tests.e2e.conftest import RunningStack, wait_for

pytestmark = pytest.mark.e2e


def test_a_subscriber_sees_a_jobs_events_as_frames_and_as_signed_webhooks(
    stack: RunningStack, user: httpx.Client
) -> None:
    with WebhookReceiver("whsec_cGVuZGluZw==") as receiver:
        created = user.post(
            "/api/webhooks",
            json={"url": receiver.url, "events": ["job.created", "job.status_changed", "job.completed"]},
        )
        assert created.status_code == 201, created.text
        receiver.receiver.secret = created.json()["webhook"]["secret"]  # only verified POSTs are kept

        token = stack.state["tokens"]["user"]
        with connect(f"{stack.state['realtimeUrl']}?token={token}", open_timeout=10) as socket:
            socket.send(json.dumps({"action": "subscribe", "scope": "mine"}))
            assert json.loads(socket.recv(timeout=10)) == {"type": "subscribed", "scope": "mine"}
            reply = user.post(
                "/api/jobs", json={"jobType": "simple-task", "taskDescription": "tell me", "inputData": {}}
            )
            assert reply.status_code == 201, reply.text
            job_id = reply.json()["job"]["id"]
            frames: list[dict[str, Any]] = []
            deadline = time.monotonic() + 30
            while not any(f["type"] == "job.completed" and f["data"]["job"]["id"] == job_id for f in frames):
                assert time.monotonic() < deadline, f"no job.completed frame; got {[f['type'] for f in frames]}"
                frames.append(json.loads(socket.recv(timeout=30)))

        mine = [f for f in frames if f["data"]["job"]["id"] == job_id]
        types = [f["type"] for f in mine]
        assert types[0] == "job.created" and "job.status_changed" in types and types[-1] == "job.completed"
        statuses = [f["data"]["job"]["status"] for f in mine if f["type"] == "job.status_changed"]
        assert statuses[-1] == "COMPLETED" and "IN_PROGRESS" in statuses

        def webhooks_of_the_job() -> list[dict[str, Any]] | None:
            got = [e for e in receiver.events if e["data"]["job"]["id"] == job_id]
            return got if len(got) == len(mine) else None

        delivered = wait_for(webhooks_of_the_job, "the receiver to get the job's events", timeout=30)
        assert [e["id"] for e in delivered] == [f["id"] for f in mine]  # the same events, in the same order

        webhook_id = created.json()["webhook"]["id"]
        log = user.get(f"/api/webhooks/{webhook_id}/deliveries").json()["deliveries"]
        assert {d["status"] for d in log if d["jobId"] == job_id} == {"DELIVERED"}


def test_the_socket_refuses_a_missing_or_bad_token(stack: RunningStack) -> None:
    for query in ("", "?token=not-a-jwt"):
        with pytest.raises(InvalidStatus) as refused:
            connect(f"{stack.state['realtimeUrl']}{query}", open_timeout=10)
        assert refused.value.response.status_code == 401
