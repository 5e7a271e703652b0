"""CloudWatch's EMF extraction, played locally: the handlers print Embedded Metric Format lines to stdout
(Powertools Metrics); a stdout wrapper takes every line whose JSON has ``_aws.CloudWatchMetrics`` and forwards
it as ``put_metric_data`` to the local CloudWatch (in a background thread); every other line passes through."""

from __future__ import annotations

import io
import json
import queue
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

import boto3

from local import console

MAX_DATA_PER_CALL = 1000
log = console.get("emf")


def parse_emf(line: str) -> dict[str, Any] | None:
    """The EMF document of one output line, or None when the line is anything else."""
    text = line.strip()
    if not (text.startswith("{") and "CloudWatchMetrics" in text):
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    meta = document.get("_aws")
    if not isinstance(meta, dict) or not isinstance(meta.get("CloudWatchMetrics"), list):
        return None
    return document


def _numbers(value: Any) -> list[float]:
    items = value if isinstance(value, list) else [value]
    return [float(item) for item in items if isinstance(item, int | float) and not isinstance(item, bool)]


def metric_data(document: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """``put_metric_data`` entries by namespace for one EMF document (one entry per metric and dimension set)."""
    meta = document["_aws"]
    stamp = meta.get("Timestamp")
    when = datetime.fromtimestamp(stamp / 1000, UTC) if isinstance(stamp, int | float) else datetime.now(UTC)
    by_namespace: dict[str, list[dict[str, Any]]] = {}
    for directive in meta["CloudWatchMetrics"]:
        if not isinstance(directive, dict) or not directive.get("Namespace"):
            continue
        dimension_sets = directive.get("Dimensions") or [[]]
        for metric in directive.get("Metrics") or []:
            name = metric.get("Name") if isinstance(metric, dict) else None
            values = _numbers(document.get(name)) if name else []
            if not values:
                continue
            for dimension_set in dimension_sets:
                datum: dict[str, Any] = {
                    "MetricName": name,
                    "Dimensions": [
                        {"Name": key, "Value": str(document[key])} for key in dimension_set if key in document
                    ],
                    "Timestamp": when,
                    "Unit": metric.get("Unit") or "None",
                }
                if len(values) == 1:
                    datum["Value"] = values[0]
                else:
                    datum["Values"] = values
                    datum["Counts"] = [1.0] * len(values)
                if metric.get("StorageResolution") == 1:
                    datum["StorageResolution"] = 1
                by_namespace.setdefault(directive["Namespace"], []).append(datum)
    return by_namespace


class EmfForwarder:
    """Sends EMF documents to CloudWatch from one background thread, so a handler never waits for it."""

    def __init__(self, *, region: str, endpoint_url: str) -> None:
        self.cloudwatch = boto3.session.Session(region_name=region).client("cloudwatch", endpoint_url=endpoint_url)
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="emf-forwarder", daemon=True)
        self.forwarded = 0

    def start(self) -> EmfForwarder:
        self._thread.start()
        return self

    def submit(self, document: dict[str, Any]) -> None:
        self._queue.put(document)

    def put(self, document: dict[str, Any]) -> None:
        for namespace, data in metric_data(document).items():
            for start in range(0, len(data), MAX_DATA_PER_CALL):
                chunk: Any = data[start : start + MAX_DATA_PER_CALL]
                self.cloudwatch.put_metric_data(Namespace=namespace, MetricData=chunk)
                self.forwarded += len(chunk)

    def _run(self) -> None:
        while (document := self._queue.get()) is not None:
            try:
                self.put(document)
            except Exception as exc:
                log.warning("forwarding EMF metrics to CloudWatch failed: %s", exc)

    def stop(self, timeout: float = 5.0) -> None:
        """Forwards what is queued, then stops."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)


class EmfStdout(io.TextIOBase):
    """A stdout that hands EMF lines to ``sink`` and writes every other line to ``target``. Lines are put
    together per thread (``print`` writes the text and the newline in two calls)."""

    def __init__(self, target: TextIO, sink: Callable[[dict[str, Any]], None]) -> None:
        super().__init__()
        self.target = target
        self.sink = sink
        self._local = threading.local()
        self._lock = threading.Lock()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.target, "encoding", "utf-8")

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.target.isatty()

    def fileno(self) -> int:
        return self.target.fileno()

    def _pending(self) -> str:
        return getattr(self._local, "pending", "")

    def write(self, text: str) -> int:
        data = self._pending() + text
        *lines, rest = data.split("\n")
        self._local.pending = rest
        passthrough = []
        for line in lines:
            document = parse_emf(line)
            if document is None:
                passthrough.append(line + "\n")
            else:
                self.sink(document)
        if passthrough:
            with self._lock:
                self.target.write("".join(passthrough))
        return len(text)

    def flush(self) -> None:
        pending = self._pending()
        if pending and not pending.lstrip().startswith("{"):  # a JSON line may still be on its way
            self._local.pending = ""
            with self._lock:
                self.target.write(pending)
        self.target.flush()


def install(sink: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
    """Wraps ``sys.stdout``; returns the function that puts the original back."""
    original = sys.stdout
    sys.stdout = EmfStdout(original, sink)

    def restore() -> None:
        if isinstance(sys.stdout, EmfStdout):
            sys.stdout.flush()
        sys.stdout = original

    return restore
