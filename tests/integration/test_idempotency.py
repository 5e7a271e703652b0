"""Idempotency-Key (DESIGN.md §15) on moto: Powertools' idempotency utility with its DynamoDB table, through the
real handlers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.exceptions import ClientError

from agent_jobs.api.docs import document
from agent_jobs.catalog import ROUTES
from agent_jobs.integrations import aws as aws_clients
from agent_jobs.services import reset
from tests.fixtures.faults import failing
from tests.integration.conftest import Api, Reply

BODY = {"jobType": "simple-task", "taskDescription": "Summarise the report", "inputData": {"n": 1}}


def create(api: Api, key: str | None, body: dict[str, Any] = BODY, path: str = "/api/jobs") -> Reply:
    return api.post(path, body, headers={"Idempotency-Key": key} if key is not None else None)


def my_job_ids(api: Api) -> list[str]:
    reply = api.get("/api/jobs")
    assert reply.status == 200, reply.body
    return [job["id"] for job in reply.body["jobs"]]


def test_a_retry_gets_the_first_answer(api: Api) -> None:
    first = create(api, "order-1")
    again = create(
        api, "order-1", {"inputData": {"n": 1}, "taskDescription": "Summarise the report", "jobType": "simple-task"}
    )
    assert first.status == again.status == 201
    assert again.body == first.body  # the same job, not a second one
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert my_job_ids(api) == [first.body["job"]["id"]]
    other = create(api, "order-2")  # another key is another request
    assert other.status == 201 and "Idempotent-Replayed" not in other.headers
    assert create(api, None).status == 201  # without the header nothing changes
    assert len(my_job_ids(api)) == 3


def test_the_same_key_with_another_body_is_422(api: Api) -> None:
    assert create(api, "order-1").status == 201
    reused = create(api, "order-1", {**BODY, "priority": 9})
    assert reused.status == 422
    assert reused.body["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert reused.body["error"]["field"] == "Idempotency-Key"
    assert len(my_job_ids(api)) == 1


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_a_key_must_be_1_to_255_characters(api: Api, key: str) -> None:
    reply = create(api, key)
    assert reply.status == 400 and reply.body["error"]["field"] == "Idempotency-Key"
    assert my_job_ids(api) == []
    assert create(api, "k" * 255).status == 201


def test_keys_are_per_user(api: Api) -> None:
    mine = create(api, "order-1")
    bobs = create(api.as_user("bob"), "order-1")
    assert mine.status == bobs.status == 201 and "Idempotent-Replayed" not in bobs.headers
    assert mine.body["job"]["id"] != bobs.body["job"]["id"]
    assert bobs.body["job"]["userId"] == "bob"


def test_keys_are_per_path(api: Api) -> None:
    assert create(api, "order-1").status == 201
    aliased = create(api, "order-1", path="/api/agent-jobs")
    assert aliased.status == 201 and "Idempotent-Replayed" not in aliased.headers


@contextmanager
def paused(client: Any, operation: str) -> Iterator[tuple[threading.Event, threading.Event]]:
    """``client``'s ``operation`` waits inside the call until released: a request caught in flight."""
    service = client.meta.service_model.service_id.hyphenize()
    entered, release = threading.Event(), threading.Event()

    def hold(**_: Any) -> None:
        entered.set()
        release.wait(10)

    client.meta.events.register(f"before-call.{service}.{operation}", hold)
    try:
        yield entered, release
    finally:
        release.set()
        client.meta.events.unregister(f"before-call.{service}.{operation}", hold)


def test_the_same_key_while_the_first_request_runs_is_409(api: Api) -> None:
    replies: list[Reply] = []
    sqs = aws_clients.client("sqs")  # the client the dispatcher sends the auto-assign message with
    with paused(sqs, "SendMessage") as (entered, release):
        first = threading.Thread(target=lambda: replies.append(create(api, "order-1")))
        first.start()
        assert entered.wait(10)  # the first request is past its idempotency record, inside its work
        during = create(api, "order-1")
        release.set()
        first.join(10)
    assert during.status == 409 and during.body["error"]["code"] == "IDEMPOTENCY_KEY_IN_PROGRESS"
    (done,) = replies
    assert done.status == 201
    after = create(api, "order-1")
    assert after.status == 201 and after.headers["Idempotent-Replayed"] == "true"
    assert after.body["job"]["id"] == done.body["job"]["id"]
    assert my_job_ids(api) == [done.body["job"]["id"]]


def test_a_failed_request_is_not_remembered(api: Api) -> None:
    sqs = aws_clients.client("sqs")
    with failing(sqs, "SendMessage", code="InternalError", times=None), pytest.raises(ClientError):
        create(api, "order-1")  # the function fails (API Gateway answers 500)
    retried = create(api, "order-1")
    assert retried.status == 201 and "Idempotent-Replayed" not in retried.headers
    refused = create(api, "order-2", {**BODY, "priority": 99})
    assert refused.status == 400  # a refused request is not remembered either: the key stays free
    assert create(api, "order-2").status == 201


def test_a_key_expires(aws: dict[str, str], api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDEMPOTENCY_TTL_SECONDS", "1")
    reset()
    first = create(api, "order-1")
    assert create(api, "order-1").headers.get("Idempotent-Replayed") == "true"
    time.sleep(2.1)  # Powertools stores whole seconds: past the expiry, the key is free again
    later = create(api, "order-1", {**BODY, "priority": 9})
    assert later.status == 201 and "Idempotent-Replayed" not in later.headers
    assert later.body["job"]["id"] != first.body["job"]["id"]


def test_job_actions_replay_their_answer(api: Api) -> None:
    job_id = create(api, None, {**BODY, "autoAssign": False}).body["job"]["id"]
    cancelled = api.post(f"/api/jobs/{job_id}/cancel", {"reason": "not needed"}, headers={"Idempotency-Key": "c-1"})
    assert cancelled.status == 200 and cancelled.body["job"]["status"] == "CANCELLED"
    # without the key a second cancel is 409 (already cancelled); with it, the retry gets the first answer
    again = api.post(f"/api/jobs/{job_id}/cancel", {"reason": "not needed"}, headers={"Idempotency-Key": "c-1"})
    assert again.status == 200 and again.headers["Idempotent-Replayed"] == "true" and again.body == cancelled.body
    assert api.post(f"/api/jobs/{job_id}/cancel", {"reason": "not needed"}).status == 409


def test_reads_ignore_the_header(api: Api) -> None:
    job_id = create(api, "order-1").body["job"]["id"]
    shown = api.get(f"/api/jobs/{job_id}", headers={"Idempotency-Key": "order-1"})
    assert shown.status == 200 and "Idempotent-Replayed" not in shown.headers


def test_the_document_declares_the_header_where_it_is_honoured() -> None:
    paths = json.loads(document())["paths"]
    idempotent = {(r.method.lower(), r.path) for r in ROUTES if r.idempotent}
    assert ("post", "/api/jobs") in idempotent and ("post", "/api/admin/agent-checkpoints/{id}") in idempotent
    for path, operations in paths.items():
        for method, operation in operations.items():
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
            if (method, path) in idempotent:
                assert names == ["Idempotency-Key"], (method, path)
                assert {"409", "422"} <= set(operation["responses"]), (method, path)
            else:
                assert "Idempotency-Key" not in names and "422" not in operation["responses"], (method, path)
