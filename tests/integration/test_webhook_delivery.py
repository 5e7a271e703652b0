"""Webhook deliveries on moto against a real local receiver (tests/fixtures/webhook_receiver.py): Standard Webhooks
signatures with the event id as webhook-id, owner scoping, retries with backoff on 5xx/429/timeouts, giving up
after the window, order per job, redelivery, and a job's one-off webhookUrl."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from agent_jobs.domain.subscribers import deliver
from agent_jobs.models.base import utc_now
from agent_jobs.models.job_events import Event, EventData, EventType
from tests.fixtures.webhook_receiver import WebhookReceiver
from tests.integration.conftest import Api
from tests.integration.conftest import deliver as play_queue


@pytest.fixture
def loopback(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    from agent_jobs.services import reset

    monkeypatch.setenv("ALLOW_LOOPBACK_HTTP_AGENTS", "true")  # the receiver is on http://127.0.0.1
    monkeypatch.setenv("WEBHOOK_RETRY_BASE_SECONDS", "1")
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "1")
    reset()
    return aws


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


def event(job_id: str, user: str = "alice", kind: str = "job.completed", version: int = 1) -> Event:
    return Event(
        id=f"{job_id}:v{version}:{kind}",
        type=EventType(kind),
        created_at=utc_now(),
        user_id=user,
        data=EventData(job={"id": job_id, "userId": user, "status": "COMPLETED", "version": version}),
    )


def subscribe(api: Api, receiver: WebhookReceiver, path: str = "/ok", **body: Any) -> dict[str, Any]:
    reply = api.post("/api/webhooks", {"url": receiver.url(path), "events": [t.value for t in EventType], **body})
    assert reply.status == 201, reply.body
    webhook: dict[str, Any] = reply.body["webhook"]
    receiver.trust(webhook["secret"])
    return webhook


def run(env: dict[str, str], rounds: int = 1) -> None:
    for _ in range(rounds):
        play_queue(env["WEBHOOKS_QUEUE_URL"], "webhooks")


def run_until(env: dict[str, str], done: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "not reached in time"
        run(env)
        time.sleep(0.1)


def deliveries(api: Api, webhook_id: str) -> list[dict[str, Any]]:
    reply = api.get(f"/api/webhooks/{webhook_id}/deliveries")
    assert reply.status == 200
    found: list[dict[str, Any]] = reply.body["deliveries"]
    return found


def test_a_delivery_is_signed_with_the_event_id_as_webhook_id(
    loopback: dict[str, str], api: Api, receiver: WebhookReceiver
) -> None:
    webhook = subscribe(api, receiver)
    sent = event("job1")
    deliver([sent])
    run(loopback)

    (got,) = receiver.received
    assert got.signature_ok is True
    assert got.headers["webhook-id"] == sent.id
    assert got.headers["content-type"] == "application/json" and got.headers["accept-encoding"] == "identity"
    assert got.body == {
        "id": sent.id,
        "type": "job.completed",
        "createdAt": sent.created_at,
        "data": sent.data.to_api(),
    }
    (logged,) = deliveries(api, webhook["id"])
    assert logged["status"] == "DELIVERED" and logged["eventId"] == sent.id and logged["jobId"] == "job1"
    assert logged["attempts"][0]["statusCode"] == 204 and logged["attempts"][0]["latencyMs"] >= 0
    assert logged["nextRetryAt"] is None


def test_the_same_event_twice_is_one_delivery(loopback: dict[str, str], api: Api, receiver: WebhookReceiver) -> None:
    webhook = subscribe(api, receiver)
    sent = event("job1")
    deliver([sent])
    deliver([sent])  # a stream batch retried
    run(loopback, rounds=3)
    assert len(receiver.received) == 1
    assert len(deliveries(api, webhook["id"])) == 1


def test_subscribers_get_their_own_jobs_events_and_admins_scope_all_gets_every_one(
    loopback: dict[str, str], api: Api, receiver: WebhookReceiver
) -> None:
    alice = subscribe(api, receiver, "/ok?who=alice", events=["job.completed"])
    bob = subscribe(api.as_user("bob"), receiver, "/ok?who=bob")
    admin = subscribe(api.as_user("root", admin=True), receiver, "/ok?who=admin", scope="all")
    deliver([event("job1", "alice"), event("job1", "alice", "job.status_changed", 2)])
    run(loopback, rounds=3)
    paths = sorted(r.path for r in receiver.received)
    assert paths == ["/ok?who=admin", "/ok?who=admin", "/ok?who=alice"]  # alice asked for job.completed only
    assert deliveries(api.as_user("bob"), bob["id"]) == []
    assert len(deliveries(api.as_user("root", admin=True), admin["id"])) == 2
    assert len(deliveries(api, alice["id"])) == 1


def test_5xx_is_retried_with_backoff_until_it_is_delivered(
    loopback: dict[str, str], api: Api, receiver: WebhookReceiver
) -> None:
    webhook = subscribe(api, receiver, "/status?code=503&times=2")
    deliver([event("job1")])
    run(loopback)
    (first,) = deliveries(api, webhook["id"])
    assert first["status"] == "RETRYING" and first["attempts"][0]["statusCode"] == 503
    assert first["nextRetryAt"] > first["attempts"][0]["at"]

    run_until(loopback, lambda: deliveries(api, webhook["id"])[0]["status"] == "DELIVERED")
    (done,) = deliveries(api, webhook["id"])
    assert [a["statusCode"] for a in done["attempts"]] == [503, 503, 204]
    assert done["attemptCount"] == 3
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1  # the same id on every try
    assert all(r.signature_ok for r in receiver.received)


def test_429_and_timeouts_are_retried_too(loopback: dict[str, str], api: Api, receiver: WebhookReceiver) -> None:
    limited = subscribe(api, receiver, "/status?code=429&times=1")
    deliver([event("job1")])
    run(loopback)
    assert deliveries(api, limited["id"])[0]["status"] == "RETRYING"
    api.delete(f"/api/webhooks/{limited['id']}")

    hanging = subscribe(api, receiver, "/hang")
    deliver([event("job2")])
    started = time.monotonic()
    run(loopback)
    assert time.monotonic() - started < 5  # the short timeout
    (timed_out,) = deliveries(api, hanging["id"])
    assert timed_out["status"] == "RETRYING" and "timed out" in timed_out["attempts"][0]["error"]


@pytest.mark.parametrize("path", ["/status?code=400", "/status?code=410", "/redirect"])
def test_other_answers_fail_at_once(loopback: dict[str, str], api: Api, receiver: WebhookReceiver, path: str) -> None:
    webhook = subscribe(api, receiver, path)
    deliver([event("job1")])
    run(loopback, rounds=3)
    (failed,) = deliveries(api, webhook["id"])
    assert failed["status"] == "FAILED" and failed["attemptCount"] == 1 and failed["nextRetryAt"] is None
    assert len(receiver.received) == 1


def test_it_gives_up_when_the_retry_window_runs_out(
    loopback: dict[str, str], api: Api, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent_jobs.services import reset

    monkeypatch.setenv("WEBHOOK_RETRY_WINDOW_SECONDS", "1")  # 24 h in the product
    monkeypatch.setenv("WEBHOOK_RETRY_BASE_SECONDS", "30")  # the next backoff (15-30 s) always ends past it
    reset()
    webhook = subscribe(api, receiver, "/status?code=500")
    deliver([event("job1")])
    run(loopback, rounds=2)
    (given_up,) = deliveries(api, webhook["id"])
    assert given_up["status"] == "GAVE_UP" and given_up["attemptCount"] == 1 and given_up["nextRetryAt"] is None


def test_one_jobs_events_arrive_in_order_after_the_receiver_recovers(
    loopback: dict[str, str], api: Api, receiver: WebhookReceiver
) -> None:
    webhook = subscribe(api, receiver, "/status?code=503&times=2")
    first = event("job1", version=1)
    time.sleep(0.005)  # a later write of the same job: a later time (events of one write share a time and sort
    # by their place in the batch, see subscribers.delivery_id)
    second, other_job = event("job1", "alice", "job.failed", 2), event("job2")
    deliver([first])
    run(loopback)  # first: 503, retrying
    deliver([second, other_job])
    run(loopback)  # second waits behind first; job2 is not held up by job1

    run_until(loopback, lambda: all(d["status"] == "DELIVERED" for d in deliveries(api, webhook["id"])))
    tries = [(r.headers["webhook-id"], r.status) for r in receiver.received]
    first_delivered = tries.index((first.id, 204))
    # whatever the timing, job1's second event is never even tried before its first one got through
    assert all(index > first_delivered for index, (event_id, _) in enumerate(tries) if event_id == second.id)
    assert any(event_id == other_job.id for event_id, _ in tries[:first_delivered])  # job2 was not held up


def test_redelivery_sends_the_same_webhook_id_again(
    loopback: dict[str, str], api: Api, receiver: WebhookReceiver
) -> None:
    webhook = subscribe(api, receiver)
    sent = event("job1")
    deliver([sent])
    run(loopback)
    (logged,) = deliveries(api, webhook["id"])
    reply = api.post(f"/api/webhooks/{webhook['id']}/deliveries/{logged['id']}/redeliver")
    assert reply.status == 202 and reply.body["delivery"]["status"] == "PENDING"
    run(loopback)
    assert [r.headers["webhook-id"] for r in receiver.received] == [sent.id, sent.id]
    (again,) = deliveries(api, webhook["id"])
    assert again["status"] == "DELIVERED" and again["attemptCount"] == 2
    assert api.post(f"/api/webhooks/{webhook['id']}/deliveries/19990101000000000_nothing/redeliver").status == 404


def test_a_deleted_subscriptions_open_deliveries_are_not_sent(
    loopback: dict[str, str], api: Api, receiver: WebhookReceiver
) -> None:
    webhook = subscribe(api, receiver)
    deliver([event("job1")])
    api.delete(f"/api/webhooks/{webhook['id']}")
    run(loopback)
    assert receiver.received == []


def test_a_jobs_webhook_url_gets_its_events_signed_with_the_default_secret(
    loopback: dict[str, str], api: Api, receiver: WebhookReceiver
) -> None:
    body = {"jobType": "simple-task", "taskDescription": "x", "autoAssign": False}
    first = api.post("/api/jobs", {**body, "webhookUrl": receiver.url("/ok?job=1")})
    assert first.status == 201, first.body
    secret = first.body["webhookSecret"]
    assert secret.startswith("whsec_")
    second = api.post("/api/jobs", {**body, "webhookUrl": receiver.url("/ok?job=2")})
    assert second.status == 201 and "webhookSecret" not in second.body  # shown once
    plain = api.post("/api/jobs", body)
    assert "webhookSecret" not in plain.body
    receiver.trust(secret)

    job_id = second.body["job"]["id"]
    deliver([event(job_id, "alice", "job.created"), event(plain.body["job"]["id"]), event(job_id, "bob")])
    run(loopback, rounds=2)
    (got,) = receiver.received  # its own job's event only (not another job's, not another user's)
    assert got.path == "/ok?job=2" and got.signature_ok is True and got.body["data"]["job"]["id"] == job_id


def test_an_unsafe_webhook_url_leaves_no_job_behind(loopback: dict[str, str], api: Api) -> None:
    reply = api.post("/api/jobs", {"taskDescription": "x", "webhookUrl": "https://169.254.169.254/"})
    assert reply.status == 400 and reply.body["error"]["field"] == "webhookUrl"
    assert api.get("/api/jobs").body["jobs"] == []


def test_a_failing_receiver_costs_the_event_stream_nothing(
    loopback: dict[str, str], api: Api, receiver: WebhookReceiver
) -> None:
    webhook = subscribe(api, receiver, "/hang")
    started = time.monotonic()
    deliver([event(f"job{i}") for i in range(5)])  # what the events function does: record and queue, never POST
    assert time.monotonic() - started < 2
    assert receiver.received == []
    assert [d["status"] for d in deliveries(api, webhook["id"])] == ["PENDING"] * 5
