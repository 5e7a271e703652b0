"""The local stack's stream pollers (``local/streams.py``) on moto: records in order, a reported failure read
again from the failed record, a raising batch bisected, and the real events function fed end to end."""

from __future__ import annotations

import threading
import time
from typing import Any

import boto3
import pytest

from agent_jobs.catalog import STREAMS, StreamSpec
from local.streams import StreamPollers, StreamReader, _StreamPoller, streams_client
from tests.integration.conftest import Api
from tests.integration.test_job_events import Tap

JOBS_SPEC = next(spec for spec in STREAMS if spec.table == "jobs_table")


def reader(env: dict[str, str]) -> StreamReader:
    session = boto3.session.Session(region_name="us-east-1")
    return StreamReader(session.client("dynamodb"), streams_client(session, None), env["JOBS_TABLE"])


def make_jobs(api: Api, count: int) -> list[str]:
    ids = []
    for n in range(count):
        reply = api.post("/api/jobs", {"taskDescription": f"job {n}", "autoAssign": False})
        assert reply.status == 201, reply.body
        ids.append(reply.body["job"]["id"])
    return ids


class Recorder:
    """A consumer that records every batch it was given and answers as ``answer`` says."""

    def __init__(self, answer: Any) -> None:
        self.batches: list[list[str]] = []
        self.answer = answer

    def __call__(self, _function: str, event: dict[str, Any]) -> Any:
        batch = [record["dynamodb"]["NewImage"]["id"]["S"] for record in event["Records"]]
        self.batches.append(batch)
        return self.answer(event["Records"], len(self.batches))


def poller(env: dict[str, str], invoke: Recorder, spec: StreamSpec = JOBS_SPEC) -> _StreamPoller:
    return _StreamPoller(spec, reader(env), threading.Event(), invoke)


def test_a_reported_failure_is_read_again_from_that_record(aws: dict[str, str], api: Api) -> None:
    first, second, third = make_jobs(api, 3)

    def fail_the_second_once(records: list[dict[str, Any]], call: int) -> dict[str, Any]:
        failed = [{"itemIdentifier": records[1]["dynamodb"]["SequenceNumber"]}] if call == 1 else []
        return {"batchItemFailures": failed}

    invoke = Recorder(fail_the_second_once)
    stream = poller(aws, invoke)
    stream.stopping.set()  # no back-off wait in the test
    assert stream.poll_once() is False  # the failure: try again after a wait
    assert stream.poll_once() is True
    assert stream.poll_once() is False  # nothing left
    assert invoke.batches == [[first, second, third], [second, third]]


def test_a_raising_batch_is_bisected_and_a_poison_record_skipped(aws: dict[str, str], api: Api) -> None:
    first, second = make_jobs(api, 2)

    def poison(records: list[dict[str, Any]], _call: int) -> dict[str, Any]:
        if any(r["dynamodb"]["NewImage"]["id"]["S"] == first for r in records):
            raise RuntimeError("this record cannot be handled")
        return {"batchItemFailures": []}

    invoke = Recorder(poison)
    spec = StreamSpec("jobs_table", "events", batch_size=10, max_batching_window_seconds=0, retry_attempts=1)
    stream = poller(aws, invoke, spec)
    stream.stopping.set()
    while stream.poll_once() or len(invoke.batches) < 4:
        pass
    # the whole batch, then the half with the poison record, its retry, then it is skipped and the rest goes on
    assert invoke.batches == [[first, second], [first], [first], [second]]


def test_the_pollers_feed_the_events_function(aws: dict[str, str], api: Api, tap: Tap) -> None:
    pollers = StreamPollers(
        region="us-east-1",
        endpoint_url=None,
        table_names={spec.table: aws[spec.table.upper()] for spec in STREAMS},
    ).start()
    try:
        (job_id,) = make_jobs(api, 1)
        deadline = time.monotonic() + 10
        seen: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not seen:
            seen = tap.published()
            time.sleep(0.1)
    finally:
        pollers.stop()
    assert [(e["type"], e["data"]["job"]["id"]) for e in seen] == [("job.created", job_id)]


@pytest.fixture
def tap(aws: dict[str, str]) -> Tap:
    return Tap(aws)
