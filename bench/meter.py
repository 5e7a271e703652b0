"""Counts every AWS request the real code path makes, with botocore event hooks.

``Meter.install()`` patches ``botocore.session.Session.create_client`` so that every client made afterwards —
boto3's (``agent_jobs.integrations.aws.client``), PynamoDB's (it calls botocore directly), the bench's own
event-source-mapping player, and the clients moto's Step Functions interpreter makes for its SQS tasks — gets
two handlers on its ``meta.events``:

- ``before-parameter-build.*.*``: the call's API parameters, who made it (the ``actor`` context variable, or
  ``stepfunctions`` for moto's interpreter), and for DynamoDB writes a snapshot of the items before the write;
- ``after-call.*.*``: the parsed response (also on errors), the call's wall time, and for DynamoDB writes the
  items after it — from which ``dynamo_units`` computes the request units the write consumed.

The snapshots are read with a client made by the original ``create_client`` (no hooks), and the time the
hooks take is added to ``overhead_seconds`` so the handler timings can leave it out.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import botocore.session

from bench import dynamo_units

actor: contextvars.ContextVar[str] = contextvars.ContextVar("bench_actor", default="bench")
_STEP_FUNCTIONS_MODULE = "moto/stepfunctions"
_WRITE_OPS = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"}


@dataclass
class Call:
    service: str  # botocore's hyphenized service id: dynamodb, sqs, sfn, ...
    operation: str
    actor: str  # function name, "esm", "stepfunctions" or "bench"
    params: dict[str, Any]
    response: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0  # wall time of the call
    cpu_seconds: float = 0.0  # CPU of the calling thread during the call (botocore + moto in this process)
    rru: float = 0.0
    wru: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def acting_as(name: str) -> Iterator[None]:
    token = actor.set(name)
    try:
        yield
    finally:
        actor.reset(token)


class Meter:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.overhead_seconds = 0.0
        self.overhead_cpu: dict[str, float] = {}  # CPU the hooks took, by actor
        self._lock = threading.Lock()
        self._original: Callable[..., Any] | None = None
        self._raw: dict[str, Any] = {}
        self._schemas: dict[str, dynamo_units.TableSchema] = {}
        self.recording = True

    # --- installation ---------------------------------------------------------------------------
    def install(self) -> Meter:
        original = botocore.session.Session.create_client
        self._original = original
        meter = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            from_step_functions = _called_from(_STEP_FUNCTIONS_MODULE)
            client.meta.events.register("before-parameter-build.*.*", meter._before_handler(from_step_functions))
            client.meta.events.register("after-call.*.*", meter._after)
            return client

        session_class: Any = botocore.session.Session
        session_class.create_client = create_client
        return self

    def uninstall(self) -> None:
        if self._original is not None:
            session_class: Any = botocore.session.Session
            session_class.create_client = self._original
            self._original = None

    def raw_client(self, service: str) -> Any:
        """A client without the hooks: item snapshots, table schemas, and the bench's own look-ups."""
        if service not in self._raw:
            assert self._original is not None, "install() first"
            session = botocore.session.get_session()
            self._raw[service] = self._original(session, service, region_name="us-east-1")
        return self._raw[service]

    def inspector(self) -> Any:
        return self.raw_client("dynamodb")

    def schema(self, table: str) -> dynamo_units.TableSchema:
        if table not in self._schemas:
            described = self.inspector().describe_table(TableName=table)["Table"]
            self._schemas[table] = dynamo_units.TableSchema.from_description(described)
        return self._schemas[table]

    # --- hooks ------------------------------------------------------------------------------------
    def _before_handler(self, from_step_functions: bool) -> Callable[..., None]:
        def before(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
            began, began_cpu = time.perf_counter(), time.thread_time()
            if not self.recording:
                return
            service = model.service_model.service_id.hyphenize()
            call = Call(service, model.name, "stepfunctions" if from_step_functions else actor.get(), dict(params))
            if service == "dynamodb" and model.name in _WRITE_OPS:
                call.detail["before"] = self._snapshot(model.name, params)
            context["bench_call"] = call
            self._add_overhead(call.actor, began, began_cpu)
            context["bench_started"] = time.perf_counter()
            context["bench_started_cpu"] = time.thread_time()

        return before

    def _after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        call: Call | None = context.get("bench_call")
        if call is None:
            return
        ended, ended_cpu = time.perf_counter(), time.thread_time()
        call.seconds = ended - context["bench_started"]
        call.cpu_seconds = ended_cpu - context["bench_started_cpu"]
        call.response = parsed or {}
        call.error = (parsed or {}).get("Error", {}).get("Code")
        if call.service == "dynamodb":
            self._units(call)
        with self._lock:
            self.calls.append(call)
        self._add_overhead(call.actor, ended, ended_cpu)

    def _add_overhead(self, who: str, began: float, began_cpu: float) -> None:
        cpu = time.thread_time() - began_cpu
        with self._lock:
            self.overhead_seconds += time.perf_counter() - began
            self.overhead_cpu[who] = self.overhead_cpu.get(who, 0.0) + cpu

    # --- DynamoDB -----------------------------------------------------------------------------------
    def _keys_written(self, operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
        """(table, key, action) for every item a write touches."""
        if operation == "TransactWriteItems":
            found = []
            for item in params.get("TransactItems", []):
                (action, body), *_ = item.items()
                key = body.get("Key") or self.schema(body["TableName"]).key_of(body["Item"])
                found.append((body["TableName"], key, action))
            return found
        table = params["TableName"]
        key = params.get("Key") or self.schema(table).key_of(params["Item"])
        return [(table, key, operation.removesuffix("Item"))]

    def _snapshot(self, operation: str, params: dict[str, Any]) -> list[dict[str, Any] | None]:
        return [self._stored(table, key) for table, key, _action in self._keys_written(operation, params)]

    def _stored(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        """The item as stored now: from moto's in-process backend (fast), else with a GetItem."""
        try:
            from moto.core import DEFAULT_ACCOUNT_ID
            from moto.dynamodb.models import dynamodb_backends
            from moto.dynamodb.models.dynamo_type import DynamoType

            schema = self.schema(table)
            stored = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(table)
            range_key = DynamoType(key[schema.keys[1]]) if len(schema.keys) > 1 else None
            item = stored.get_item(DynamoType(key[schema.keys[0]]), range_key)
            if item is None:
                return None
            attributes: dict[str, Any] = json.loads(json.dumps(item.to_json()["Attributes"], default=str))
            return attributes
        except Exception:
            got = self.inspector().get_item(TableName=table, Key=key, ConsistentRead=True)
            found: dict[str, Any] | None = got.get("Item")
            return found

    def _units(self, call: Call) -> None:
        if call.operation in _WRITE_OPS:
            after = self._snapshot(call.operation, call.params)
            writes = self._keys_written(call.operation, call.params)
            transactional = call.operation == "TransactWriteItems"
            total = dynamo_units.WriteUnits()
            for (table, _key, action), old, new in zip(writes, call.detail["before"], after, strict=True):
                total += dynamo_units.write_units(
                    self.schema(table), old, new, action=action, transactional=transactional, failed=bool(call.error)
                )
            call.wru = total.table + total.indexes
            call.detail = {"tableWru": total.table, "indexWru": total.indexes, "tables": [w[0] for w in writes]}
        else:
            call.rru = dynamo_units.read_units(call.operation, call.params, call.response, self.schema)

    # --- results ------------------------------------------------------------------------------------
    def snapshot(self) -> int:
        with self._lock:
            return len(self.calls)

    def since(self, mark: int) -> list[Call]:
        with self._lock:
            return list(self.calls[mark:])


def _called_from(fragment: str) -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if fragment in frame.f_code.co_filename.replace("\\", "/"):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False
