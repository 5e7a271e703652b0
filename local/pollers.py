"""Lambda's SQS pollers, played locally for every event source mapping moto holds (each queue and DLQ of
``catalog.QUEUES``): read the mappings from the Lambda API about once a second and, for each enabled one,
receive up to ``BatchSize`` messages, call the consumer with an SQS event, delete what succeeded and leave
what failed (``batchItemFailures``, or everything when the handler raises) to reappear after the visibility
timeout. At most ``ScalingConfig.MaximumConcurrency`` invocations per mapping run at once. A disabled
mapping is not polled: that is seed 004's worker stop, and its queued messages simply wait.

No batch starts after a stop has answered: a receive may have been waiting when the mapping was disabled,
so after every receive the mapping's state is read again from the Lambda API, and if it is no longer
enabled the messages go straight back to the queue (visibility 0) instead of to the function."""

from __future__ import annotations

import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import boto3

from local import console, lambda_runtime
from local.lambda_runtime import failed_ids, receive_batch, settle_batch, sqs_event
from local.provision import PREFIX, REPORT_BATCH_ITEM_FAILURES

REFRESH_SECONDS = 1.0
WAIT_TIME_SECONDS = 1  # short long-polling: low latency, few empty receives
SQS_MAX_BATCH = 10
ACTIVE_STATES = frozenset({"Enabled", "Enabling", "Updating"})
POWERTOOLS_BATCH_LOGGER = "aws_lambda_powertools.utilities.batch.base"
log = console.get("pollers")


class _RecordFailures(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage().startswith("Record processing exception")


def surface_record_failures() -> None:
    """Shows why a record failed: Powertools' batch processor says so only at DEBUG (CloudWatch has it in the
    cloud; locally the pollers' log line would not say which exception)."""
    batch_logger = logging.getLogger(POWERTOOLS_BATCH_LOGGER)
    if any(isinstance(f, _RecordFailures) for h in batch_logger.handlers for f in h.filters):
        return
    handler = logging.StreamHandler(sys.__stderr__)
    handler.addFilter(_RecordFailures())
    handler.setFormatter(logging.Formatter("%(asctime)s local.pollers: %(message)s", "%H:%M:%S"))
    batch_logger.addHandler(handler)
    batch_logger.setLevel(logging.DEBUG)


@dataclass(frozen=True)
class Mapping:
    uuid: str
    function: str  # catalog name, e.g. execute_job
    queue_arn: str
    queue_url: str
    batch_size: int
    max_concurrency: int
    enabled: bool
    report_failures: bool

    @property
    def queue_name(self) -> str:
        return self.queue_arn.rsplit(":", 1)[-1]


Invoke = Callable[[str, dict[str, Any]], Any]


class _MappingPoller:
    """One mapping: a receive loop and up to ``max_concurrency`` invocation threads."""

    def __init__(
        self,
        mapping: Mapping,
        sqs: Any,
        region: str,
        stopping: threading.Event,
        *,
        lambda_: Any,
        invoke: Invoke = lambda_runtime.invoke,
    ) -> None:
        self.mapping = mapping
        self.sqs = sqs
        self.lambda_ = lambda_
        self.invoke = invoke
        self.region = region
        self.stopping = stopping
        self.in_flight = 0
        self.slots = threading.Condition()
        self.workers: set[threading.Thread] = set()
        self.unavailable_logged = False
        self.thread = threading.Thread(target=self._loop, name=f"poll-{mapping.queue_name}", daemon=True)

    def update(self, mapping: Mapping) -> None:
        with self.slots:
            if mapping.enabled != self.mapping.enabled:
                log.info(
                    "%s → %s: %s", mapping.queue_name, mapping.function, "started" if mapping.enabled else "stopped"
                )
            self.mapping = mapping
            self.slots.notify_all()

    def _take_slot(self) -> bool:
        with self.slots:
            if self.in_flight >= self.mapping.max_concurrency:
                self.slots.wait(0.5)
                return False
            self.in_flight += 1
            return True

    def _free_slot(self) -> None:
        with self.slots:
            self.in_flight -= 1
            self.slots.notify_all()

    def _ready(self, mapping: Mapping) -> bool:
        if not mapping.enabled:
            return False
        if lambda_runtime.available(mapping.function):
            self.unavailable_logged = False
            return True
        if not self.unavailable_logged:
            log.warning(
                "%s is not polled: functions/%s/handler.py does not exist yet (its messages wait)",
                mapping.queue_name,
                mapping.function,
            )
            self.unavailable_logged = True
        return False

    def _loop(self) -> None:
        while not self.stopping.is_set():
            mapping = self.mapping
            if not self._ready(mapping):
                self.stopping.wait(0.5)
                continue
            if not self._take_slot():
                continue
            try:
                messages = receive_batch(
                    self.sqs, mapping.queue_url, min(mapping.batch_size, SQS_MAX_BATCH), WAIT_TIME_SECONDS
                )
            except Exception as exc:
                self._free_slot()
                if not self.stopping.is_set():
                    log.warning("receive from %s failed: %s", mapping.queue_name, exc)
                    self.stopping.wait(1.0)
                continue
            if not messages:
                self._free_slot()
                continue
            if self.stopping.is_set() or not self._still_enabled(mapping):
                self._hand_back(mapping, messages)
                self._free_slot()
                continue
            worker = threading.Thread(
                target=self._invoke, args=(mapping, messages), name=f"invoke-{mapping.function}", daemon=True
            )
            with self.slots:
                self.workers.add(worker)
            worker.start()

    def _still_enabled(self, mapping: Mapping) -> bool:
        """The mapping's state now (not as of the last refresh): a stop may have answered during the receive."""
        try:
            state = self.lambda_.get_event_source_mapping(UUID=mapping.uuid).get("State")
        except Exception as exc:
            log.warning("reading the mapping of %s failed: %s", mapping.queue_name, exc)
            return False
        if state in ACTIVE_STATES:
            return True
        self.update(replace(mapping, enabled=False))  # stop polling now, not at the next refresh
        return False

    def _hand_back(self, mapping: Mapping, messages: list[dict[str, Any]]) -> None:
        """Received but not processed: visible again at once, as Lambda does with a disabled mapping's batch."""
        entries = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0} for i, m in enumerate(messages)
        ]
        try:
            self.sqs.change_message_visibility_batch(QueueUrl=mapping.queue_url, Entries=entries)
        except Exception as exc:
            log.warning("handing %d messages back to %s failed: %s", len(messages), mapping.queue_name, exc)
        else:
            log.info("%s is stopped: %d received messages handed back", mapping.queue_name, len(messages))

    def _invoke(self, mapping: Mapping, messages: list[dict[str, Any]]) -> None:
        batch_ids = {message["MessageId"] for message in messages}
        try:
            try:
                result = self.invoke(mapping.function, sqs_event(messages, mapping.queue_arn, self.region))
            except Exception:
                log.error(
                    "%s raised on a batch from %s (the whole batch fails):\n%s",
                    mapping.function,
                    mapping.queue_name,
                    traceback.format_exc(),
                )
                failed = set(batch_ids)
            else:
                failed = failed_ids(result, batch_ids, mapping.report_failures)
            if failed:
                log.info(
                    "%s: %d of %d messages from %s failed; they return after the visibility timeout",
                    mapping.function,
                    len(failed),
                    len(messages),
                    mapping.queue_name,
                )
            settle_batch(self.sqs, mapping.queue_url, messages, failed, retry_now=False)
        except Exception as exc:
            log.error("settling a batch from %s failed: %s", mapping.queue_name, exc)
        finally:
            with self.slots:
                self.workers.discard(threading.current_thread())
            self._free_slot()

    def join(self, deadline: float) -> None:
        self.thread.join(max(0.0, deadline - time.monotonic()))
        with self.slots:
            workers = list(self.workers)
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))


class Pollers:
    """Every event source mapping of the local Lambda service, polled as Lambda would."""

    def __init__(self, *, region: str, endpoint_url: str | None, prefix: str = PREFIX) -> None:
        session = boto3.session.Session(region_name=region)
        self.region = region
        self.prefix = prefix
        self.lambda_ = session.client("lambda", endpoint_url=endpoint_url)
        self.sqs = session.client("sqs", endpoint_url=endpoint_url)
        self.stopping = threading.Event()
        self.pollers: dict[str, _MappingPoller] = {}
        self._queue_urls: dict[str, str] = {}
        self._refresher = threading.Thread(target=self._refresh_loop, name="esm-refresh", daemon=True)

    def _queue_url(self, arn: str) -> str:
        if arn not in self._queue_urls:
            self._queue_urls[arn] = self.sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"]
        return self._queue_urls[arn]

    def mappings(self) -> list[Mapping]:
        found: list[Mapping] = []
        for page in self.lambda_.get_paginator("list_event_source_mappings").paginate():
            for item in page["EventSourceMappings"]:
                arn = item.get("EventSourceArn", "")
                name = item["FunctionArn"].rsplit(":function:", 1)[-1].split(":", 1)[0]
                if not arn.startswith("arn:aws:sqs:") or not name.startswith(f"{self.prefix}-"):
                    continue
                concurrency = (item.get("ScalingConfig") or {}).get("MaximumConcurrency") or 1000
                found.append(
                    Mapping(
                        uuid=item["UUID"],
                        function=name.removeprefix(f"{self.prefix}-"),
                        queue_arn=arn,
                        queue_url=self._queue_url(arn),
                        batch_size=int(item.get("BatchSize") or SQS_MAX_BATCH),
                        max_concurrency=max(1, int(concurrency)),
                        enabled=item.get("State") in ACTIVE_STATES,
                        report_failures=REPORT_BATCH_ITEM_FAILURES in (item.get("FunctionResponseTypes") or []),
                    )
                )
        return found

    def refresh(self) -> None:
        current = self.mappings()
        for mapping in current:
            poller = self.pollers.get(mapping.uuid)
            if poller is None:
                poller = _MappingPoller(mapping, self.sqs, self.region, self.stopping, lambda_=self.lambda_)
                self.pollers[mapping.uuid] = poller
                poller.thread.start()
            elif poller.mapping != mapping:
                poller.update(mapping)
        for uuid in set(self.pollers) - {m.uuid for m in current}:  # a deleted mapping stops being polled
            poller = self.pollers[uuid]
            poller.update(replace(poller.mapping, enabled=False))

    def _refresh_loop(self) -> None:
        while not self.stopping.wait(REFRESH_SECONDS):
            try:
                self.refresh()
            except Exception as exc:
                if not self.stopping.is_set():
                    log.warning("reading the event source mappings failed: %s", exc)

    def start(self) -> Pollers:
        surface_record_failures()
        self.refresh()
        self._refresher.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stops receiving, then waits (up to ``timeout`` in all) for the invocations in flight."""
        deadline = time.monotonic() + timeout
        self.stopping.set()
        for poller in self.pollers.values():
            with poller.slots:
                poller.slots.notify_all()
        if self._refresher.is_alive():
            self._refresher.join(max(0.0, deadline - time.monotonic()))
        for poller in self.pollers.values():
            poller.join(deadline)
