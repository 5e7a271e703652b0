"""Gauges of the scheduled run (every minute): jobs by status, the checkpoint backlog, queue depths.

How each number is read, and why its cost stays bounded as the platform grows:

- **Jobs by status** — only the statuses that hold *open* work are gauged (PENDING, ASSIGNED,
  IN_PROGRESS, RESUBMISSION_REQUIRED, FAILED): a ``Select=COUNT`` Query on the jobs table's ``by_status``
  index, one partition per status. COUNT returns no items, but DynamoDB still reads the partition, so the
  cost follows the partition's size: for PENDING/ASSIGNED/IN_PROGRESS that is the backlog, which the
  execute queues keep small; FAILED and RESUBMISSION_REQUIRED wait for their owner and may pile up, so
  every count stops at ``STATUS_COUNT_CAP`` (default 10,000 — at most ~4 pages of 1 MB) and reports "at
  least" that. COMPLETED and REJECTED grow forever and are **not** counted here: their totals and rates
  come from the EMF counters (``JobsCompleted``, ``JobsRejected``, ``JobsFailed``… emitted at each
  transition), which CloudWatch sums over any period for free. No Scan anywhere.
- **Pending checkpoints** — COUNT on the checkpoints table's ``by_status`` index (PENDING, capped the same
  way) and one ``Limit=1`` Query for the oldest (that index is ordered by ``created_at``).
- **Queue depths** — ``GetQueueAttributes`` (ApproximateNumberOfMessages, …NotVisible) for every queue of
  ``catalog.QUEUES`` and its DLQ: 10 calls, independent of the number of jobs. They go in the run's log line
  and explain to the sweeper why a queued job waits, but are **not** emitted as metrics: SQS publishes the
  same two numbers per queue in ``AWS/SQS`` for free, which the dashboard and the DLQ alarms read; as custom
  gauges they were 20 of the stack's 60 metric series ($6 a month, issue 13).

The same readings feed the admin stats route (``domain/stats.py``) and the worker view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent_jobs.catalog import QUEUES
from agent_jobs.integrations.aws import client
from agent_jobs.metrics_catalog import GAUGED_STATUSES, emit
from agent_jobs.models.base import parse_time
from agent_jobs.models.checkpoints import CheckpointStatus
from agent_jobs.models.jobs import JobStatus
from agent_jobs.observability import logger
from agent_jobs.repositories.operations import Count, OperationsRepository
from agent_jobs.settings import Settings

OPEN_STATUSES = tuple(JobStatus(status) for status in GAUGED_STATUSES)
VISIBLE = "ApproximateNumberOfMessages"
IN_FLIGHT = "ApproximateNumberOfMessagesNotVisible"
DLQ_SUFFIX = "-dlq"


@dataclass(frozen=True)
class QueueDepth:
    visible: int = 0
    in_flight: int = 0


@dataclass(frozen=True)
class CheckpointBacklog:
    pending: Count
    oldest_age_seconds: float | None  # None when nothing waits


def dlq_url(queue_url: str) -> str:
    """A queue's DLQ: the same name with ``-dlq`` (as infra/ and local/provision.py name them)."""
    return queue_url.rstrip("/") + DLQ_SUFFIX


def queue_urls(settings: Settings) -> dict[str, str]:
    """Every queue and DLQ by key (``execute``, ``execute-dlq``, …); queues without a URL are left out."""
    urls: dict[str, str] = {}
    for spec in QUEUES:
        url = str(getattr(settings, spec.setting, "") or "")
        if url:
            urls[spec.key] = url
            urls[spec.key + DLQ_SUFFIX] = dlq_url(url)
    return urls


def queue_depth(url: str) -> QueueDepth:
    attributes = client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=[VISIBLE, IN_FLIGHT])["Attributes"]
    return QueueDepth(int(attributes.get(VISIBLE, 0)), int(attributes.get(IN_FLIGHT, 0)))


def queue_depths(settings: Settings) -> dict[str, QueueDepth]:
    """Depth of every queue and DLQ by key; a queue that cannot be read is logged and left out."""
    depths: dict[str, QueueDepth] = {}
    for key, url in queue_urls(settings).items():
        try:
            depths[key] = queue_depth(url)
        except Exception:
            logger.exception("cannot read queue attributes", extra={"queue": key})
    return depths


def job_counts(statuses: tuple[JobStatus, ...], cap: int) -> dict[JobStatus, Count]:
    repository = OperationsRepository()
    return {status: repository.count_jobs(status, cap=cap) for status in statuses}


def checkpoint_backlog(now: datetime, cap: int) -> CheckpointBacklog:
    repository = OperationsRepository()
    pending = repository.count_checkpoints(CheckpointStatus.PENDING, cap=cap)
    oldest = repository.oldest_checkpoint_created_at(CheckpointStatus.PENDING) if pending.value else None
    age = max(0.0, (now - parse_time(oldest)).total_seconds()) if oldest else None
    return CheckpointBacklog(pending, age)


def emit_gauges(settings: Settings, now: datetime, depths: dict[str, QueueDepth]) -> dict[str, Any]:
    """Reads and emits every gauge; returns what was emitted, and the queue depths, for the run's log line."""
    counts = job_counts(OPEN_STATUSES, settings.status_count_cap)
    for status, count in counts.items():
        emit("JobsInStatus", count.value, status=status.value)
    backlog = checkpoint_backlog(now, settings.status_count_cap)
    emit("PendingCheckpoints", backlog.pending.value)
    emit("OldestPendingCheckpointAgeSeconds", backlog.oldest_age_seconds or 0.0)
    return {
        "jobsInStatus": {status.value: count.value for status, count in counts.items()},
        "capped": [status.value for status, count in counts.items() if count.capped],
        "pendingCheckpoints": backlog.pending.value,
        "oldestPendingCheckpointAgeSeconds": backlog.oldest_age_seconds,
        "queues": {key: {"visible": d.visible, "inFlight": d.in_flight} for key, d in depths.items()},
    }
