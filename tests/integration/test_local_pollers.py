"""The local stack's event source mapping pollers on moto: no batch starts after a worker stop has answered
(issue 12 item 20), even when the receive that fetched it was already waiting when the stop came."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import boto3
import pytest

from local.pollers import Mapping, Pollers, _MappingPoller
from local.provision import provision_functions


class _NoLambdaPush(dict[str, Any]):
    """moto's SQS pushes to an enabled mapping's function on every send; here the pollers play Lambda."""

    def __setitem__(self, key: str, value: Any) -> None:
        return None


@pytest.fixture
def mappings(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sqs.models import sqs_backends

    for queue in sqs_backends[DEFAULT_ACCOUNT_ID][aws["AWS_REGION"]].queues.values():
        queue.lambda_event_source_mappings = _NoLambdaPush()
    return {**aws, **provision_functions(aws, enabled=True)}


class StopDuringReceive:
    """The SQS port of a poller whose long-poll was in flight when an admin stopped the worker: the receive
    returns its messages only after the mapping was disabled (``DELETE /api/admin/agent-worker`` answered)."""

    def __init__(self, sqs: Any, lambda_: Any, uuid: str) -> None:
        self.sqs = sqs
        self.lambda_ = lambda_
        self.uuid = uuid
        self.handed_back: list[dict[str, Any]] = []
        self.done = threading.Event()

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        got = self.sqs.receive_message(**{**kwargs, "WaitTimeSeconds": 0})
        if got.get("Messages"):
            self.lambda_.update_event_source_mapping(UUID=self.uuid, Enabled=False)  # the stop answers now
        return dict(got)

    def change_message_visibility_batch(self, **kwargs: Any) -> dict[str, Any]:
        self.handed_back.extend(kwargs["Entries"])
        answer = dict(self.sqs.change_message_visibility_batch(**kwargs))
        self.done.set()
        return answer

    def delete_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        return dict(self.sqs.delete_message_batch(**kwargs))


def test_a_batch_received_across_a_stop_is_handed_back_not_processed(mappings: dict[str, str]) -> None:
    region = mappings["AWS_REGION"]
    sqs = boto3.client("sqs", region_name=region)
    lambda_ = boto3.client("lambda", region_name=region)
    queue_url = mappings["EXECUTE_QUEUE_URL"]
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"kind": "execute", "jobId": "j", "attempt": 1}))
    (mapping,) = [m for m in Pollers(region=region, endpoint_url=None).mappings() if m.queue_url == queue_url]
    assert isinstance(mapping, Mapping) and mapping.enabled
    port = StopDuringReceive(sqs, lambda_, mapping.uuid)
    invoked: list[str] = []

    def invoke(function: str, event: dict[str, Any]) -> None:
        invoked.append(function)
        port.done.set()

    stopping = threading.Event()
    poller = _MappingPoller(
        mapping,
        port,
        region,
        stopping,
        lambda_=lambda_,
        invoke=invoke,
    )
    poller.thread.start()
    try:
        assert port.done.wait(10), "the poller neither processed nor handed back the batch"
    finally:
        stopping.set()
        poller.join(time.monotonic() + 5)

    assert invoked == []  # no batch started after the stop answered
    assert [entry["VisibilityTimeout"] for entry in port.handed_back] == [0]
    waiting = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0).get("Messages", [])
    assert len(waiting) == 1  # visible again at once, for when the worker starts
    assert poller.mapping.enabled is False  # and the poller stops polling without waiting for a refresh
