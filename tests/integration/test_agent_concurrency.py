"""Issue 18 item 4: per-agent ``maxConcurrency`` and per-user fairness in the execute step, on moto with a real
slow local agent that counts the calls it is answering at once, the real execute handler invoked concurrently
(as several event source mapping pollers would, each invocation with its own request id) and a real judge.

moto's conditional writes are not atomic across threads (DESIGN.md §11); real DynamoDB's are, and the slots
rely on that, so these tests make moto's DynamoDB backend take one lock per call (the way DynamoDB serializes
writes to an item) rather than test races that the real service cannot have."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto.dynamodb.models import DynamoDBBackend

from agent_jobs.domain.concurrency import agent_pool, user_capacity
from agent_jobs.repositories.slots import Slot, SlotRepository
from agent_jobs.services import reset
from agent_jobs.settings import get_settings
from tests.fixtures.agent_server import AgentServer
from tests.fixtures.openai_server import OpenAICompatServer, pass_reply
from tests.integration.conftest import Api, deliver

SECRET = "whsec-concurrency-secret-0123456789"


# --- fixtures ----------------------------------------------------------------------------------------------------
@pytest.fixture
def atomic_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """One DynamoDB call at a time in moto, as the service applies a conditional write atomically."""
    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items", "get_item", "query"):
        original = getattr(DynamoDBBackend, name)

        def locked(*args: Any, _original: Callable[..., Any] = original, **kwargs: Any) -> Any:
            with lock:
                return _original(*args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)


@pytest.fixture
def stack(
    aws: dict[str, str], atomic_dynamodb: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[dict[str, str], AgentServer]]:
    judge = OpenAICompatServer(lambda request: pass_reply())
    judge.start()
    for name, value in {
        "ALLOW_LOOPBACK_HTTP_AGENTS": "true",
        "AGENT_RETRY_BASE_SECONDS": "0.01",
        "OPENAI_BASE_URL": judge.base_url,
        "OPENAI_API_KEY": "test-key",
        "CONCURRENCY_WAIT_CAP_SECONDS": "1",  # a waiting message comes back after 1 s
        "PUBLIC_API_URL": "https://api.agent-jobs.example",
    }.items():
        monkeypatch.setenv(name, value)
    reset()
    with AgentServer(secret=SECRET) as agents:
        yield aws, agents
    judge.stop()


def register(admin: Api, url: str, **extra: Any) -> str:
    body = {"name": "concurrency-agent", "endpointUrl": url, "secret": SECRET, "jobTypes": ["simple-task"], **extra}
    reply = admin.post("/api/admin/agents", body)
    assert reply.status == 201, reply.body
    return str(reply.body["agent"]["id"])


def create(api: Api, agent_id: str, n: int) -> str:
    body = {
        "jobType": "simple-task",
        "description": f"Summarise report {n}",
        "inputData": {"n": n},
        "agentId": agent_id,
    }
    reply = api.post("/api/jobs", body)
    assert reply.status == 201, reply.body
    return str(reply.body["job"]["id"])


def status_of(api: Api, job_id: str) -> str:
    return str(api.get(f"/api/jobs/{job_id}").body["job"]["status"])


def run_concurrently(env: dict[str, str], done: Callable[[], bool], *, pollers: int, timeout: float = 60.0) -> None:
    """``pollers`` threads poll the execute queue at once while this thread feeds the judge, until ``done()``."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def poll() -> None:
        try:
            while not stop.is_set():
                if not deliver(env["EXECUTE_QUEUE_URL"], "execute_job"):  # a fresh request id per poll, as on Lambda
                    time.sleep(0.05)
        except BaseException as exc:  # surfaced below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=poll, daemon=True) for _ in range(pollers)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    try:
        while not done() and not errors:
            assert time.monotonic() < deadline, "not done before the timeout"
            if not deliver(env["VALIDATE_QUEUE_URL"], "validate"):
                time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not errors, errors


# --- maxConcurrency --------------------------------------------------------------------------------------------
def test_a_slow_agent_under_a_burst_never_has_more_than_its_max_concurrency_calls_in_flight(
    stack: tuple[dict[str, str], AgentServer], api: Api, admin: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, agents = stack
    monkeypatch.setenv("MAX_INVOCATIONS_PER_USER", "10")  # only the agent's limit in play here
    reset()
    agent_id = register(admin, agents.url("/slow?seconds=0.3"), maxConcurrency=3)
    jobs = [create(api, agent_id, n) for n in range(30)]

    run_concurrently(
        env, lambda: len(agents.requests) == 30 and all(status_of(api, j) == "COMPLETED" for j in jobs), pollers=4
    )

    assert agents.peak_in_flight == 3  # used its three slots, never a fourth
    assert sorted(r.body["jobId"] for r in agents.requests) == sorted(jobs)  # every job called once
    for job_id in jobs:
        logs = api.get(f"/api/jobs/{job_id}/logs").body["logs"]
        assert not any(log["status"] == "FAILED" for log in logs)  # waiting is not failing
    assert SlotRepository().held(agent_pool(agent_id)) == []  # every slot given back


def test_a_waiting_message_is_sent_again_delayed_and_never_reaches_the_dead_letter_queue(
    stack: tuple[dict[str, str], AgentServer], api: Api, admin: Api
) -> None:
    env, agents = stack
    agent_id = register(admin, agents.url("/fast"), maxConcurrency=1)
    SlotRepository().take(Slot(agent_pool(agent_id), 0, "someone-else#1", time.time() + 3600), now=time.time())
    job_id = create(api, agent_id, 1)
    sqs = boto3.client("sqs", region_name=os.environ["AWS_REGION"])
    for _ in range(6):  # twice the queue's maxReceiveCount
        time.sleep(1.05)  # the re-sent copy's delay
        assert deliver(env["EXECUTE_QUEUE_URL"], "execute_job") == 1
    assert agents.requests == [] and status_of(api, job_id) == "IN_PROGRESS"
    assert sqs.receive_message(QueueUrl=env["EXECUTE_QUEUE_DLQ_URL"]).get("Messages") is None
    time.sleep(1.05)
    (waiting,) = sqs.receive_message(
        QueueUrl=env["EXECUTE_QUEUE_URL"], AttributeNames=["All"], MessageAttributeNames=["All"]
    )["Messages"]
    assert waiting["Attributes"]["ApproximateReceiveCount"] == "1"  # a fresh copy each time
    assert waiting["MessageAttributes"]["concurrency-waits"]["StringValue"] == "6"


def test_a_crashed_holders_slot_frees_at_its_lease(
    stack: tuple[dict[str, str], AgentServer], api: Api, admin: Api
) -> None:
    env, agents = stack
    agent_id = register(admin, agents.url("/fast"), maxConcurrency=1)
    # what an invocation that took the slot and then died leaves behind: a slot until its lease
    lease_ends = time.time() + 10.0
    SlotRepository().take(Slot(agent_pool(agent_id), 0, "crashed-job#1", lease_ends), now=time.time())
    job_id = create(api, agent_id, 1)

    polled = 0
    while time.time() < lease_ends - 5.0:  # (a poll on a loaded machine takes a while: stop well before the end)
        polled += deliver(env["EXECUTE_QUEUE_URL"], "execute_job")
        assert agents.requests == []  # busy until the lease ends: the message waits
        time.sleep(0.1)
    assert polled >= 2  # it came back, and waited again
    run_concurrently(env, lambda: status_of(api, job_id) == "COMPLETED", pollers=1, timeout=20)
    assert len(agents.requests) == 1


# --- async agents: a parked attempt holds its slot until it settles ---------------------------------------------
def test_a_cancelled_parked_job_frees_its_slot(stack: tuple[dict[str, str], AgentServer], api: Api, admin: Api) -> None:
    env, agents = stack
    agent_id = register(admin, agents.url("/accepted"), maxConcurrency=1, mode="async")
    first = create(api, agent_id, 1)
    assert deliver(env["EXECUTE_QUEUE_URL"], "execute_job") == 1
    assert api.get(f"/api/jobs/{first}").body["job"]["waitingFor"] == "agent"  # parked, holding the slot

    second = create(api, agent_id, 2)
    assert deliver(env["EXECUTE_QUEUE_URL"], "execute_job") == 1
    time.sleep(1.05)
    assert deliver(env["EXECUTE_QUEUE_URL"], "execute_job") == 1  # still waiting: the parked attempt is in flight
    assert [r.body["jobId"] for r in agents.requests] == [first]

    assert api.post(f"/api/jobs/{first}/cancel", {"reason": "not needed"}).status == 200
    time.sleep(1.05)
    assert deliver(env["EXECUTE_QUEUE_URL"], "execute_job") == 1
    assert [r.body["jobId"] for r in agents.requests] == [first, second]
    assert api.get(f"/api/jobs/{second}").body["job"]["waitingFor"] == "agent"


# --- per-user fairness -----------------------------------------------------------------------------------------
def test_a_users_burst_leaves_room_for_another_users_job(
    stack: tuple[dict[str, str], AgentServer], api: Api, admin: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, agents = stack
    monkeypatch.setenv("MAX_INVOCATIONS_PER_USER", "1")
    reset()
    agent_id = register(admin, agents.url("/slow?seconds=1"))  # no agent limit: only fairness in play
    burst = [create(api, agent_id, n) for n in range(25)]
    other = create(api.as_user("bob"), agent_id, 99)

    def other_called() -> bool:
        return any(r.body["jobId"] == other for r in agents.requests)

    run_concurrently(env, other_called, pollers=2, timeout=30)
    # The calls that reached the agent before bob's, by their order of arrival: this thread notices bob's call
    # only between its judge deliveries, and the pollers go on calling meanwhile.
    called = [r.body["jobId"] for r in agents.requests]
    burst_calls = sum(1 for job_id in called[: called.index(other)] if job_id in burst)
    assert burst_calls <= 10, burst_calls  # one invocation's batch: the other invocation stayed free for bob

    everyone = [*burst, other]
    run_concurrently(env, lambda: all(status_of(admin, j) == "COMPLETED" for j in everyone), pollers=2)
    assert len(agents.requests) == 26  # nobody's job failed for waiting


def test_the_user_cap_defaults_to_half_the_execute_mappings_concurrency(aws: dict[str, str]) -> None:
    get_settings.cache_clear()
    assert user_capacity(get_settings()) == 2  # catalog: the execute mapping's maximum concurrency is 5
