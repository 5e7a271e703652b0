"""Job events from the tables' streams (DESIGN.md §15), on moto: the real writes of a job's life, the streams
read as Lambda's poller reads them (``local.streams.StreamReader``), the events function's handler, and the
EventBridge bus — observed through a rule that forwards every event to an SQS queue."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from agent_jobs.catalog import STREAMS
from agent_jobs.integrations import aws as aws_clients
from agent_jobs.services import reset
from local.lambda_runtime import LocalContext, handled_prefix, stream_event
from local.streams import StreamReader, streams_client
from tests.fixtures.agent_server import AgentServer
from tests.fixtures.faults import failing
from tests.fixtures.openai_server import OpenAICompatServer, Script, fail_reply, pass_reply
from tests.integration.conftest import Api, drain, run_queues, run_until

SECRET = "whsec-test-secret-0123456789"


class Tap:
    """Both streams, the events function, and what reached the bus."""

    def __init__(self, env: dict[str, str]) -> None:
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        streams = streams_client(boto3.session.Session(region_name="us-east-1"), None)
        self.readers = {spec.table: StreamReader(dynamodb, streams, env[spec.table.upper()]) for spec in STREAMS}
        self.handler = importlib.import_module("functions.events.handler").handler
        sqs = boto3.client("sqs", region_name="us-east-1")
        self.queue_url = sqs.create_queue(QueueName="bus-tap")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events = boto3.client("events", region_name="us-east-1")
        bus = env["EVENTS_BUS_NAME"]
        events.put_rule(Name="tap", EventBusName=bus, EventPattern=json.dumps({"source": ["agent-jobs"]}))
        events.put_targets(Rule="tap", EventBusName=bus, Targets=[{"Id": "tap", "Arn": queue_arn}])

    def batch(self, table: str, limit: int = 100) -> list[dict[str, Any]]:
        return self.readers[table].read(limit)

    def invoke(self, table: str, records: list[dict[str, Any]]) -> dict[str, Any]:
        """One invocation of the events function; the stream moves past what it handled."""
        result: dict[str, Any] = self.handler(stream_event(records), LocalContext("events"))
        self.readers[table].advance(handled_prefix(records, result))
        return result

    def pump(self) -> None:
        """Every stream record so far, through the events function (as the event source mappings would)."""
        for table in self.readers:
            while records := self.batch(table):
                assert self.invoke(table, records) == {"batchItemFailures": []}

    def published(self) -> list[dict[str, Any]]:
        """The events that reached the bus since the last call, in order (each the event's JSON)."""
        return [message["detail"] for message in drain(self.queue_url)]


def types_of(events: list[dict[str, Any]], item_id: str | None = None) -> list[str]:
    return [e["type"] for e in events if item_id is None or e["data"]["job"]["id"] == item_id]


@pytest.fixture
def tap(aws: dict[str, str]) -> Tap:
    return Tap(aws)


@pytest.fixture
def platform(aws: dict[str, str], tap: Tap, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    script = Script([], fallback=pass_reply())
    judge = OpenAICompatServer(script)
    judge.start()
    with AgentServer(secret=SECRET) as agents:
        for name, value in {
            "ALLOW_LOOPBACK_HTTP_AGENTS": "true",
            "OPENAI_BASE_URL": judge.base_url,
            "OPENAI_API_KEY": "test-key",
            "OPENAI_MAX_RETRIES": "0",
            "AGENT_RETRY_BASE_SECONDS": "0.01",
        }.items():
            monkeypatch.setenv(name, value)
        reset()
        yield {"env": aws, "agents": agents, "script": script}
    judge.stop()


def register(admin: Api, url: str, job_type: str = "simple-task") -> str:
    reply = admin.post(
        "/api/admin/agents", {"name": f"{job_type}-agent", "endpointUrl": url, "secret": SECRET, "jobTypes": [job_type]}
    )
    assert reply.status == 201, reply.body
    return str(reply.body["agent"]["id"])


def create(api: Api, agent_id: str | None, job_type: str = "simple-task", **extra: Any) -> str:
    body = {"jobType": job_type, "taskDescription": "Summarise", "inputData": {"secretish": "payload"}, **extra}
    if agent_id:
        body["agentId"] = agent_id
    reply = api.post("/api/jobs", body)
    assert reply.status == 201, reply.body
    return str(reply.body["job"]["id"])


def test_a_completed_job_tells_each_transition_once(platform: dict[str, Any], tap: Tap, api: Api, admin: Api) -> None:
    job_id = create(api, register(admin, platform["agents"].url("/fast")))
    run_queues(platform["env"])
    tap.pump()
    events = tap.published()
    statuses = [e["data"]["job"]["status"] for e in events]
    # created with agentId, the job is born assigned and started (one write, DESIGN.md §13): one event
    assert types_of(events) == ["job.created", "job.status_changed", "job.completed"]
    assert statuses == ["IN_PROGRESS", "COMPLETED", "COMPLETED"]
    assert [e["data"]["previousStatus"] for e in events] == [None, "IN_PROGRESS", "IN_PROGRESS"]
    assert len({e["id"] for e in events}) == len(events)
    assert all(e["userId"] == "alice" and e["data"]["job"]["id"] == job_id for e in events)
    # a summary: no input, result, agent inputs, feedback or task token
    text = json.dumps(events)
    assert "secretish" not in text and "taskToken" not in text and '"result"' not in text
    tap.pump()
    assert tap.published() == []  # nothing more: the claim and lease writes tell no one anything


def test_a_resubmitted_then_failed_job(platform: dict[str, Any], tap: Tap, api: Api, admin: Api) -> None:
    platform["script"]._fallback = fail_reply("the summary misses the point")
    agent_id = register(admin, platform["agents"].url("/fast"))
    job_id = create(api, agent_id, maxAttempts=2, acceptanceCriteria="The summary names the user")
    run_queues(platform["env"])
    tap.pump()
    events = tap.published()
    assert types_of(events) == [
        "job.created",  # born IN_PROGRESS, attempt 1
        "job.status_changed",  # IN_PROGRESS again, attempt 2 (with the judge's feedback)
        "job.status_changed",
        "job.resubmission_required",
    ]
    assert [e["data"]["job"]["attempt"] for e in events[0:2]] == [1, 2]
    assert events[1]["data"]["previousStatus"] == "IN_PROGRESS"
    cancelled = api.post(f"/api/jobs/{job_id}/cancel", {"reason": "enough"})
    assert cancelled.status == 200, cancelled.body
    tap.pump()
    assert types_of(tap.published()) == ["job.status_changed", "job.cancelled"]


def test_checkpoints_tell_pending_then_decided(platform: dict[str, Any], tap: Tap, api: Api, admin: Api) -> None:
    job_id = create(api, register(admin, platform["agents"].url("/fast"), "code-generation"), "code-generation")

    def pending() -> list[dict[str, Any]]:
        found = api.get(f"/api/jobs/{job_id}/checkpoints").body["checkpoints"]
        return [c for c in found if c["status"] == "PENDING"]

    run_until(platform["env"], lambda: bool(pending()))
    (checkpoint,) = pending()
    tap.pump()
    raised = [e for e in tap.published() if e["type"].startswith("checkpoint.")]
    assert types_of(raised) == ["checkpoint.pending"]
    assert raised[0]["data"]["checkpoint"]["id"] == checkpoint["id"]
    assert raised[0]["data"]["job"] == {"id": job_id, "userId": "alice", "jobType": "code-generation"}
    assert "data" not in raised[0]["data"]["checkpoint"]  # the agent's output under review is a payload
    assert admin.post(f"/api/admin/agent-checkpoints/{checkpoint['id']}", {"comment": "fine"}).status == 200
    run_until(platform["env"], lambda: api.get(f"/api/jobs/{job_id}").body["job"]["status"] == "COMPLETED")
    tap.pump()
    events = tap.published()
    decided = [e for e in events if e["type"].startswith("checkpoint.")]
    assert types_of(decided) == ["checkpoint.decided"]
    assert decided[0]["data"]["checkpoint"]["status"] == "APPROVED"
    assert decided[0]["data"]["previousStatus"] == "PENDING"
    assert types_of([e for e in events if e["type"].startswith("job.")])[-2:] == ["job.status_changed", "job.completed"]


def test_a_replayed_batch_makes_the_same_events(aws: dict[str, str], tap: Tap, api: Api) -> None:
    job_id = create(api, None, autoAssign=False)
    assert api.post(f"/api/jobs/{job_id}/cancel", {"reason": "changed my mind"}).status == 200
    records = tap.batch("jobs_table")
    assert tap.handler(stream_event(records), LocalContext("events")) == {"batchItemFailures": []}
    first = tap.published()
    assert tap.handler(stream_event(records), LocalContext("events")) == {"batchItemFailures": []}  # Lambda retries it
    again = tap.published()
    assert types_of(first) == ["job.created", "job.status_changed", "job.cancelled"]
    assert [e["id"] for e in again] == [e["id"] for e in first]
    assert first[0]["id"] == f"{job_id}:v1:job.created" and first[2]["id"] == f"{job_id}:v2:job.cancelled"
    assert again == first


def test_a_failed_publish_retries_from_that_record_in_order(aws: dict[str, str], tap: Tap, api: Api) -> None:
    first_job = create(api, None, autoAssign=False)
    second_job = create(api, None, autoAssign=False)
    records = tap.batch("jobs_table")
    assert len(records) == 2
    events_client = aws_clients.client("events")
    tap.published()
    with failing(events_client, "PutEvents", code="InternalException", times=None):
        # the first record's put fails: nothing after it may overtake it
        result = tap.invoke("jobs_table", records)
    assert result == {"batchItemFailures": [{"itemIdentifier": records[0]["dynamodb"]["SequenceNumber"]}]}
    assert tap.published() == []
    tap.pump()
    events = tap.published()
    assert [(e["type"], e["data"]["job"]["id"]) for e in events] == [
        ("job.created", first_job),
        ("job.created", second_job),
    ]
