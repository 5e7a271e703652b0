"""Handlers on moto: the platform's resources provisioned from its own definitions, events as API
Gateway's JWT authorizer would send them."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from agent_jobs.catalog import match_route
from local.lambda_runtime import http_event, invoke, poll_queue
from local.provision import provision


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """moto with real Step Functions execution; the settings environment pointing at it."""
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):  # type: ignore[arg-type]
        env = provision()
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        from agent_jobs.services import reset

        reset()
        yield env


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


class Api:
    """Calls the real handlers through the route table, as a signed-in user (or nobody)."""

    def __init__(self, user: str | None = "alice", groups: list[str] | None = None) -> None:
        self.user = user
        self.groups = groups or []

    def as_user(self, user: str | None, *, admin: bool = False) -> Api:
        return Api(user, ["admins"] if admin else [])

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: dict[str, str] | None = None,
        raw: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        found = match_route(method, path)
        assert found, f"no route for {method} {path}"
        route, params = found
        claims = None
        if self.user:
            claims = {"sub": self.user, "cognito:groups": "[" + " ".join(self.groups) + "]" if self.groups else ""}
            if not self.groups:
                claims.pop("cognito:groups")
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        event = http_event(route, path, params, body=payload, query=query, headers=headers, claims=claims)
        result = invoke(route.function, event)
        text = result.get("body") or "{}"
        parsed = (
            json.loads(text)
            if result.get("headers", {}).get("Content-Type", "").startswith("application/json")
            else {"raw": text}
        )
        return Reply(result["statusCode"], parsed, result.get("headers", {}))

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.call("POST", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.call("PUT", path, body, **kwargs)

    def delete(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.call("DELETE", path, body, **kwargs)


@pytest.fixture
def api(aws: dict[str, str]) -> Api:
    return Api("alice")


@pytest.fixture
def admin(aws: dict[str, str]) -> Api:
    return Api("root-admin", ["admins"])


def drain(queue_url: str) -> list[dict[str, Any]]:
    """Every message now on a queue (received and deleted)."""
    sqs = boto3.client("sqs", region_name=os.environ["AWS_REGION"])
    bodies = []
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = got.get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def deliver(queue_url: str, function: str, *, max_messages: int = 10, context: Any = None) -> int:
    """One poll of an event source mapping (``local.lambda_runtime.poll_queue``): receive a batch, invoke the
    consumer, delete what succeeded; failed messages become visible again at once (as if their visibility
    timeout passed). ``context``: default a fresh ``LocalContext`` with the function's whole timeout left."""
    sqs = boto3.client("sqs", region_name=os.environ["AWS_REGION"])
    return poll_queue(
        sqs, queue_url, function, region=os.environ["AWS_REGION"], max_messages=max_messages, context=context
    )


def run_queues(env: dict[str, str], *, rounds: int = 50) -> None:
    """Delivers every queue (and DLQ) to its consumer until all are empty, as the event source mappings would."""
    from agent_jobs.catalog import QUEUES

    for _ in range(rounds):
        moved = 0
        for spec in QUEUES:
            setting = spec.setting.upper()
            moved += deliver(env[setting], spec.consumer)
            moved += deliver(env[f"{setting.removesuffix('_URL')}_DLQ_URL"], spec.consumer)
        if not moved:
            return
    raise AssertionError("queues did not drain")


def run_until(env: dict[str, str], done: Any, *, timeout: float = 20.0) -> None:
    """Delivers queues until ``done()`` is true (Step Functions sends its messages from its own thread)."""
    import time

    from agent_jobs.catalog import QUEUES

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return
        moved = 0
        for spec in QUEUES:
            setting = spec.setting.upper()
            moved += deliver(env[setting], spec.consumer)
            moved += deliver(env[f"{setting.removesuffix('_URL')}_DLQ_URL"], spec.consumer)
        if not moved:
            time.sleep(0.05)
    raise AssertionError("condition not reached before the timeout")
