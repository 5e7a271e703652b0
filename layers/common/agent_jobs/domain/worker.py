"""Worker control (seed 004, DESIGN.md §3): the "worker" is the execute queues' event source mappings.

Lambda's SQS pollers are the worker: the mappings from the ``execute`` and ``execute-high`` queues to
the execute function (``settings.execute_function_name``). Their DLQ mappings are not part of it (a DLQ
consumer only settles jobs that already failed, and must keep running while the worker is stopped).

- running = every execute mapping is enabled; stop disables them, start enables them. A stopped worker
  loses nothing: messages wait on the queue (their retention is days) and are processed on start.
- ``state`` is the mappings' own: Lambda answers a stop with ``Disabling`` and may still start batches
  from messages its pollers already received until the mapping is ``Disabled``; the API says so instead of
  claiming the worker is off (the local pollers honour the same contract: they re-check the mapping after
  every receive and hand back what they received).
- ``maxConcurrentJobs`` = the mappings' ``ScalingConfig.MaximumConcurrency`` (2..1000): how many execute
  invocations may run at once per queue, each with a batch of up to ``BatchSize`` jobs.
- ``activeJobs`` = messages in flight on the execute queues (received, not yet deleted);
  ``queuedJobs`` = messages waiting.
- ``pollInterval`` has no meaning here: Lambda long-polls SQS continuously (each receive waits up to
  20 s for messages), so it is reported as null with a note.
- job counts: COUNT queries on the jobs table's ``by_status`` index, capped at ``STATUS_COUNT_CAP``
  (``countsAtLeast`` lists the figures that hit the cap). COMPLETED and FAILED grow without bound, so on
  a large table those two figures read as "at least N" rather than reading the whole partition on every
  page load; exact totals over time are the ``JobsCompleted``/``JobsFailed`` metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent_jobs.catalog import EXECUTE_QUEUE_KEYS, QUEUES
from agent_jobs.domain.gauges import queue_depth
from agent_jobs.errors import ServiceUnavailable
from agent_jobs.integrations.aws import client
from agent_jobs.models.jobs import JobStatus
from agent_jobs.observability import logger
from agent_jobs.repositories.operations import OperationsRepository
from agent_jobs.services import Services
from agent_jobs.settings import Settings

RUNNING_STATES = frozenset({"Enabled", "Enabling", "Updating"})
SETTLED_STATES = ("Enabled", "Disabled")
POLL_NOTE = (
    "Lambda long-polls the execute queues continuously (each receive waits up to 20 s); "
    "there is no poll interval to set"
)
MIN_CONCURRENCY, MAX_CONCURRENCY = 2, 1000  # Lambda's limits for ScalingConfig.MaximumConcurrency


@dataclass(frozen=True)
class Mapping:
    uuid: str
    queue: str  # catalog key: execute or execute-high
    state: str
    batch_size: int | None
    maximum_concurrency: int | None

    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES

    def to_api(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "queue": self.queue,
            "state": self.state,
            "batchSize": self.batch_size,
            "maximumConcurrency": self.maximum_concurrency,
        }


def _queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def execute_queues(settings: Settings) -> dict[str, str]:
    """The execute queues' URLs by catalog key (``execute``, ``execute-high``)."""
    specs = {spec.key: spec for spec in QUEUES}
    urls = {key: str(getattr(settings, specs[key].setting, "") or "") for key in EXECUTE_QUEUE_KEYS}
    return {key: url for key, url in urls.items() if url}


def mappings(settings: Settings) -> list[Mapping]:
    """The execute function's mappings from the execute queues (not their DLQs), ``execute`` first."""
    keys_by_name = {_queue_name(url): key for key, url in execute_queues(settings).items()}
    lambda_ = client("lambda")
    found: list[Mapping] = []
    try:
        pages = lambda_.get_paginator("list_event_source_mappings").paginate(
            FunctionName=settings.execute_function_name
        )
        for page in pages:
            for item in page.get("EventSourceMappings", []):
                key = keys_by_name.get(str(item.get("EventSourceArn", "")).rsplit(":", 1)[-1])
                if key is None:
                    continue
                found.append(
                    Mapping(
                        uuid=item["UUID"],
                        queue=key,
                        state=str(item.get("State", "")),
                        batch_size=item.get("BatchSize"),
                        maximum_concurrency=(item.get("ScalingConfig") or {}).get("MaximumConcurrency"),
                    )
                )
    except lambda_.exceptions.ResourceNotFoundException:
        logger.warning("execute function not found", extra={"function": settings.execute_function_name})
    order = {key: index for index, key in enumerate(EXECUTE_QUEUE_KEYS)}
    return sorted(found, key=lambda m: order.get(m.queue, len(order)))


def _require(found: list[Mapping], settings: Settings) -> list[Mapping]:
    if not found:
        raise ServiceUnavailable(
            f"no event source mapping from the execute queues to {settings.execute_function_name} is deployed"
        )
    return found


def worker_state(found: list[Mapping]) -> str:
    """One word for the mappings together: ``Enabled``/``Disabled`` once they all are, else the transition
    one of them is in (``Disabling`` until no batch can start any more)."""
    states = {m.state for m in found}
    if not states:
        return "Disabled"
    for settled in SETTLED_STATES:
        if states == {settled}:
            return settled
    moving = sorted(states - set(SETTLED_STATES))
    return moving[0] if moving else "Updating"


def job_counts(settings: Settings) -> tuple[dict[str, int], list[str]]:
    """Seed 004's job figures (pending = PENDING + ASSIGNED) and which of them hit the count cap."""
    repository = OperationsRepository()
    cap = settings.status_count_cap
    groups = {
        "pending": (JobStatus.PENDING, JobStatus.ASSIGNED),
        "running": (JobStatus.IN_PROGRESS,),
        "completed": (JobStatus.COMPLETED,),
        "failed": (JobStatus.FAILED,),
    }
    figures: dict[str, int] = {}
    at_least: list[str] = []
    for name, statuses in groups.items():
        counts = [repository.count_jobs(status, cap=cap) for status in statuses]
        figures[name] = sum(count.value for count in counts)
        if any(count.capped for count in counts):
            at_least.append(name)
    return figures, at_least


def status(services: Services) -> dict[str, Any]:
    """``{"worker": {...}, "jobs": {...}}`` as seed 004's GET /api/admin/agent-worker answers."""
    settings = services.settings
    found = mappings(settings)
    depths = {key: queue_depth(url) for key, url in execute_queues(settings).items()}
    normal = next((m for m in found if m.queue == "execute"), found[0] if found else None)
    jobs, at_least = job_counts(settings)
    worker = {
        "isRunning": bool(found) and all(m.running for m in found),
        "state": worker_state(found),
        "maxConcurrentJobs": normal.maximum_concurrency if normal else None,
        "activeJobs": sum(d.in_flight for d in depths.values()),
        "queuedJobs": sum(d.visible for d in depths.values()),
        "pollInterval": None,
        "pollIntervalNote": POLL_NOTE,
        "function": settings.execute_function_name,
        "mappings": [m.to_api() for m in found],
        "queues": {key: {"visible": d.visible, "inFlight": d.in_flight} for key, d in depths.items()},
    }
    body: dict[str, Any] = {"worker": worker, "jobs": jobs}
    if at_least:
        body["countsAtLeast"] = at_least
    return body


def set_enabled(services: Services, enabled: bool) -> dict[str, Any]:
    """Start (enable) or stop (disable) every execute mapping; returns the new status."""
    found = _require(mappings(services.settings), services.settings)
    lambda_ = client("lambda")
    for mapping in found:
        lambda_.update_event_source_mapping(UUID=mapping.uuid, Enabled=enabled)
    logger.info("worker started" if enabled else "worker stopped", extra={"mappings": [m.uuid for m in found]})
    return status(services)


def stop(services: Services) -> dict[str, Any]:
    """Disables every execute mapping; the status says whether they are off yet or still ``Disabling``."""
    body = set_enabled(services, False)
    if body["worker"]["state"] == "Disabled":
        body["message"] = "worker stopped; queued jobs wait until it starts again"
    else:
        body["message"] = (
            f"worker stopping ({body['worker']['state']}): batches already received may still start until "
            "its state is Disabled; queued jobs wait until it starts again"
        )
    return body


def set_max_concurrency(services: Services, maximum: int) -> dict[str, Any]:
    """``ScalingConfig.MaximumConcurrency`` of every execute mapping; returns the new status."""
    if not MIN_CONCURRENCY <= maximum <= MAX_CONCURRENCY:
        raise ValueError(f"maxConcurrentJobs must be {MIN_CONCURRENCY}..{MAX_CONCURRENCY}")
    found = _require(mappings(services.settings), services.settings)
    lambda_ = client("lambda")
    for mapping in found:
        lambda_.update_event_source_mapping(UUID=mapping.uuid, ScalingConfig={"MaximumConcurrency": maximum})
    logger.info("worker concurrency set", extra={"maximum_concurrency": maximum})
    return status(services)
