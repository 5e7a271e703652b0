"""The platform in this process on moto (real Step Functions execution), its handlers called as Lambda would:
API Gateway HTTP API events through the route table, and SQS batches as an event source mapping forms them.

Every benchmark that runs in-process uses ``Platform``; it runs in a fresh interpreter (``bench.run`` starts one
per benchmark) because the settings, the Powertools logger and moto's state are process-wide.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import capture, thread_cpu

capture.install()  # the handlers' stdout (log and EMF lines) is counted, not printed; before agent_jobs loads

ROOT = Path(__file__).resolve().parents[1]
LAMBDA_ENV = {  # as infra/ deploys the functions (POWERTOOLS_LOG_LEVEL unset: INFO)
    "POWERTOOLS_SERVICE_NAME": "agent-jobs",
    "POWERTOOLS_METRICS_NAMESPACE": "AgentJobs",
    "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here; on AWS the tracer sends UDP, no log lines
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "ALLOW_LOOPBACK_HTTP_AGENTS": "true",
    # Powertools' batch processor keeps one event loop across invocations when it sees Lambda's task root, so
    # the pooled agent and judge clients live as long as the container, as they do on Lambda.
    "LAMBDA_TASK_ROOT": str(ROOT),
    "OPENAI_API_KEY": "bench",
    # what Lambda puts in the environment of an invocation (it ends up in every Powertools log line)
    "_X_AMZN_TRACE_ID": "Root=1-6740e0d1-3c9a4e1b2f6d7a8b9c0d1e2f;Parent=53995c3f42cd8ad8;Sampled=0;Lineage=1:8a2d3f1c:0",
}
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "POWERTOOLS_DEV", "POWERTOOLS_LOG_LEVEL"):
    os.environ.pop(_name, None)
os.environ.update(LAMBDA_ENV)


thread_cpu.install()


@dataclass
class Invocation:
    function: str
    trigger: str  # "api" or the queue key
    records: int
    wall_seconds: float
    cpu_seconds: float  # the handler's own CPU: its threads, less the AWS calls (moto) and the meter's hooks
    aws_cpu_seconds: float  # CPU of the AWS calls in this process (botocore + moto)
    failures: int = 0
    calls: dict[str, float] = field(default_factory=dict)  # AWS calls by kind
    kinds: list[str] = field(default_factory=list)  # message kinds of a batch
    # what the invocation itself billed besides Lambda (its own AWS calls and stdout)
    wru: float = 0.0
    rru: float = 0.0
    sqs_requests: float = 0.0  # 64 KB chunks of what it sent, 1 per other request
    event_bridge_entries: float = 0.0  # PutEvents entries (each 64 KB chunk is one event)
    log_bytes: float = 0.0
    emf_bytes: float = 0.0


def serialize_moto() -> None:
    """One moto request at a time: moto's in-process backends are not thread-safe (two transactions of a
    concurrent batch can break its dicts), a real endpoint is. Idempotent."""
    from moto.core.botocore_stubber import BotocoreStubber

    if getattr(BotocoreStubber, "_bench_serialized", False):
        return
    lock = threading.RLock()
    original = BotocoreStubber.process_request

    def process_request(self: Any, request: Any) -> Any:
        with lock:
            return original(self, request)

    stubber: Any = BotocoreStubber
    stubber.process_request = process_request
    stubber._bench_serialized = True


class Platform:
    """Provisioned moto + the handlers. Use as a context manager; ``env`` holds the settings environment."""

    def __init__(self, settings: dict[str, str] | None = None, *, meter: Any = None, concurrent: bool = False) -> None:
        """``concurrent``: invocations of one function will run at once in threads (each handler makes its own
        batch processor per invocation, so their batches stay apart)."""
        self.settings = settings or {}
        self.concurrent = concurrent
        self.meter = meter
        self.invocations: list[Invocation] = []
        self.env: dict[str, str] = {}
        self._mock: Any = None

    def __enter__(self) -> Platform:
        from moto import mock_aws

        serialize_moto()
        config: Any = {"stepfunctions": {"execute_state_machine": True}}
        self._mock = mock_aws(config=config)
        self._mock.start()
        from local.provision import provision

        self.env = provision()
        os.environ.update(self.env)
        os.environ.update(self.settings)
        from agent_jobs.services import reset

        reset()
        from local.lambda_runtime import preload
        from local.pollers import surface_record_failures

        preload()
        surface_record_failures()  # a failed record says why on stderr
        return self

    def __exit__(self, *exc: object) -> None:
        if self._mock is not None:
            self._mock.stop()

    # --- invoking functions ---------------------------------------------------------------------------
    def invoke(self, function: str, event: dict[str, Any], trigger: str = "api") -> Any:
        from bench.meter import acting_as
        from local.lambda_runtime import LocalContext, load

        handler = load(function)
        meter = self.meter
        mark = meter.snapshot() if meter else 0
        printed = _printed(function)
        overhead = meter.overhead_cpu.get(function, 0.0) if meter else 0.0
        bucket: list[float] = []
        token = thread_cpu.cpu_bucket.set(bucket)
        try:
            with acting_as(function):
                started, started_cpu = time.perf_counter(), time.thread_time()
                result = handler(event, LocalContext(function))
                wall, main_cpu = time.perf_counter() - started, time.thread_time() - started_cpu
        finally:
            thread_cpu.cpu_bucket.reset(token)
        calls = [c for c in meter.since(mark) if c.actor == function] if meter else []
        hooks = (meter.overhead_cpu.get(function, 0.0) - overhead) if meter else 0.0
        aws_cpu = sum(c.cpu_seconds for c in calls)
        records = event.get("Records") or []
        failures = len(result.get("batchItemFailures") or []) if isinstance(result, dict) else 0
        self.invocations.append(
            Invocation(
                function=function,
                trigger=trigger,
                records=len(records),
                wall_seconds=wall,
                cpu_seconds=max(0.0, main_cpu + sum(bucket) - aws_cpu - hooks),
                aws_cpu_seconds=aws_cpu,
                failures=failures,
                calls=_call_kinds(calls),
                kinds=[json.loads(r["body"]).get("kind", "?") for r in records if "body" in r],
                wru=sum(c.wru for c in calls),
                rru=sum(c.rru for c in calls),
                sqs_requests=sum(sqs_request_units(c) for c in calls if c.service == "sqs"),
                event_bridge_entries=sum(event_units(c) for c in calls if c.service == "eventbridge"),
                log_bytes=_printed(function)[0] - printed[0],
                emf_bytes=_printed(function)[1] - printed[1],
            )
        )
        return result

    def api(
        self, method: str, path: str, body: Any = None, *, user: str = "bench-user", admin: bool = False
    ) -> tuple[int, dict[str, Any]]:
        from agent_jobs.catalog import match_route
        from local.lambda_runtime import http_event

        found = match_route(method, path)
        assert found, f"no route for {method} {path}"
        route, params = found
        claims: dict[str, Any] = {"sub": user}
        if admin:
            claims["cognito:groups"] = "[admins]"
        payload = json.dumps(body) if body is not None else None
        event = http_event(route, path, params, body=payload, claims=claims)
        result = self.invoke(route.function, event)
        return int(result["statusCode"]), json.loads(result.get("body") or "{}")

    # --- queues -------------------------------------------------------------------------------------
    def queue_url(self, key: str) -> str:
        from agent_jobs.catalog import QUEUES

        (spec,) = [q for q in QUEUES if q.key == key]
        return self.env[spec.setting.upper()]

    def receive(self, key: str, *, max_messages: int = 10, sqs: Any = None) -> list[dict[str, Any]]:
        """The receive of one event-source-mapping poll (no long polling: moto here holds a lock meanwhile)."""
        import boto3

        from bench.meter import acting_as
        from local.lambda_runtime import receive_batch

        with acting_as("esm"):
            return receive_batch(sqs or boto3.client("sqs", region_name="us-east-1"), self.queue_url(key), max_messages)

    def consume(self, key: str, messages: list[dict[str, Any]], *, sqs: Any = None) -> Any:
        """The rest of the poll: invoke the consumer with the batch, delete what succeeded
        (DeleteMessageBatch), make what failed visible again. Returns the handler's answer."""
        import boto3

        from agent_jobs.catalog import QUEUES
        from bench.meter import acting_as
        from local.lambda_runtime import failed_ids, queue_arn, settle_batch, sqs_event

        (spec,) = [q for q in QUEUES if q.key == key]
        url = self.queue_url(key)
        result = self.invoke(spec.consumer, sqs_event(messages, queue_arn(url, "us-east-1"), "us-east-1"), trigger=key)
        failed = failed_ids(result, {m["MessageId"] for m in messages}, True)
        with acting_as("esm"):
            settle_batch(sqs or boto3.client("sqs", region_name="us-east-1"), url, messages, failed, retry_now=True)
        return result

    def deliver(self, key: str, *, max_messages: int = 10, sqs: Any = None) -> int:
        """One poll of the queue's event source mapping; returns the batch size (0: the queue was empty)."""
        messages = self.receive(key, max_messages=max_messages, sqs=sqs)
        if messages:
            self.consume(key, messages, sqs=sqs)
        return len(messages)


SQS_CHUNK = 64 * 1024  # SQS and EventBridge bill every 64 KB of a payload as one request or event


def sqs_request_units(call: Any) -> int:
    """Billed SQS requests of one call: its payload's 64 KB chunks for a send or a receive, else 1."""
    if call.operation == "SendMessage":
        size = len(str(call.params.get("MessageBody", "")).encode())
    elif call.operation == "SendMessageBatch":
        size = sum(len(str(e.get("MessageBody", "")).encode()) for e in call.params.get("Entries", []))
    elif call.operation == "ReceiveMessage":
        size = sum(len(m["Body"].encode()) for m in call.response.get("Messages") or [])
    else:
        return 1
    return max(1, math.ceil(size / SQS_CHUNK))


def event_units(call: Any) -> int:
    """Billed EventBridge events of one PutEvents call."""
    if call.operation != "PutEvents":
        return 0
    return sum(max(1, math.ceil(len(json.dumps(e).encode()) / SQS_CHUNK)) for e in call.params.get("Entries", []))


def _printed(function: str) -> tuple[int, int]:
    """(log bytes, EMF bytes) the function has printed so far."""
    totals = capture.install().totals()
    return (
        int(totals["logs"].get(function, {}).get("bytes", 0)),
        int(totals["emf"].get(function, {}).get("bytes", 0)),
    )


def _call_kinds(calls: list[Any]) -> dict[str, float]:
    kinds: dict[str, float] = {}
    for call in calls:
        name = f"{call.service}.{call.operation}"
        kinds[name] = kinds.get(name, 0) + 1
    return kinds
