"""Every application metric, as data: name, unit, dimensions (DESIGN.md §8). One place.

The functions emit these as CloudWatch Embedded Metric Format (EMF) lines through Powertools' EMF provider,
namespace ``AgentJobs``; ``infra/`` (dashboard, alarms) reads this module instead of repeating names.

Dimensions are low-cardinality by construction:

- every metric carries ``service`` (= ``agent-jobs``), written explicitly so the series are the same
  whether or not ``POWERTOOLS_SERVICE_NAME`` is set;
- ``jobType`` is bucketed: a type the checkpoint policy table knows (``domain/policies.py`` defaults plus
  the ``JOB_TYPE_CHECKPOINTS`` setting) keeps its name, anything else a user typed becomes ``other``;
- ``status``, ``outcome``, ``verdict``, ``task`` and ``action`` take a fixed, small set of values
  (listed on each spec); never a job id, agent id or user id.

Each EMF line states one or more *dimension sets*: the first is the metric's full set, the others are
roll-ups (e.g. ``JobsCompleted`` is written once per event under ``[service, jobType]`` and
``[service]``), so a dashboard or alarm can read the total without metric math. A dimension set is
always given here *without* ``service``; :func:`dimension_sets` adds it.

One EMF document per invocation (issue 13): inside :func:`invocation_metrics` (the handlers' decorator,
``observability.invocation``, opens it) :func:`emit` only records the event; when the invocation ends, even by an
exception, the events that share their dimension values, their dimension sets and their minute are written as one
document, each metric with the array of its values (EMF extracts every value as its own datum: the Sum, the
SampleCount and the percentiles CloudWatch computes are those of one line per event). Outside an invocation
(tests, scripts) each event is still written when it happens.

This module is pure data plus :func:`emit`, which imports Powertools lazily: ``infra/`` can import it
without the Lambda runtime's packages.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

NAMESPACE = "AgentJobs"
SERVICE = "agent-jobs"
SERVICE_DIMENSION = "service"
OTHER_JOB_TYPE = "other"


class Unit(StrEnum):
    """The CloudWatch units used here (Powertools ``MetricUnit`` values)."""

    COUNT = "Count"
    SECONDS = "Seconds"
    MILLISECONDS = "Milliseconds"


class Kind(StrEnum):
    COUNTER = "counter"  # one datapoint per event: read with Sum
    DISTRIBUTION = "distribution"  # one sample per event: read with p50/p90/Average/SampleCount
    GAUGE = "gauge"  # sampled by the scheduled run every minute: read with Maximum (or Average)


@dataclass(frozen=True)
class MetricSpec:
    name: str
    unit: Unit
    kind: Kind
    description: str
    dimensions: tuple[str, ...] = ()  # the full set, without "service"
    rollups: tuple[tuple[str, ...], ...] = ()  # extra, coarser sets, without "service"
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)  # fixed values of some dimensions

    @property
    def statistic(self) -> str:
        """The statistic a graph of this metric uses by default."""
        return {Kind.COUNTER: "Sum", Kind.DISTRIBUTION: "p90", Kind.GAUGE: "Maximum"}[self.kind]


JOB_TYPE = "jobType"
TERMINAL_OUTCOMES = ("COMPLETED", "FAILED", "REJECTED", "RESUBMISSION_REQUIRED", "CANCELLED")
GAUGED_STATUSES = ("PENDING", "ASSIGNED", "IN_PROGRESS", "RESUBMISSION_REQUIRED", "FAILED")
VERDICTS = ("pass", "fail", "unavailable")
JUDGE_TASKS = ("validate", "assign")
CHECKPOINT_OUTCOMES = ("approved", "rejected", "expired", "changes-requested", "cancelled")
SWEEP_ACTIONS = ("redispatched", "revalidated", "failed")


def _counter(name: str, description: str, **kwargs: Any) -> MetricSpec:
    return MetricSpec(name, Unit.COUNT, Kind.COUNTER, description, **kwargs)


def _by_type(name: str, description: str, unit: Unit = Unit.COUNT, kind: Kind = Kind.COUNTER) -> MetricSpec:
    """A metric per (bucketed) job type, rolled up to the service total."""
    return MetricSpec(name, unit, kind, description, dimensions=(JOB_TYPE,), rollups=((),))


METRICS: tuple[MetricSpec, ...] = (
    # --- jobs: emitted by domain/events.py, called by lifecycle.apply after each transition ---------------
    _by_type("JobsCreated", "A job was stored (PENDING)"),
    _by_type("JobsCompleted", "A job reached COMPLETED (judge pass or admin force-complete)"),
    _by_type("JobsFailed", "A job reached FAILED (agent error, bad output, DLQ, sweeper)"),
    _by_type("JobsRejected", "A job reached REJECTED (checkpoint rejected or expired)"),
    _by_type("JobsCancelled", "A job reached CANCELLED (its owner or an admin cancelled it)"),
    _by_type(
        "JobsResubmissionRequired",
        "A job reached RESUBMISSION_REQUIRED (judge failed with no retry left, or judge unavailable)",
    ),
    _by_type("JobsRetried", "The judge failed an attempt and the job was resubmitted automatically"),
    _by_type(
        "JobsResubmitted",
        "A FAILED or RESUBMISSION_REQUIRED job was started again by its owner or an admin",
    ),
    MetricSpec(
        "JobDurationSeconds",
        Unit.SECONDS,
        Kind.DISTRIBUTION,
        "Time from a job's creation to an outcome (COMPLETED, FAILED, REJECTED, RESUBMISSION_REQUIRED, CANCELLED)",
        dimensions=(JOB_TYPE, "status"),
        rollups=(("status",), ()),
        values={"status": TERMINAL_OUTCOMES},
    ),
    # --- agents: domain/execution.py, at the agent call --------------------------------------------------
    _by_type(
        "AgentCallLatencyMs",
        "Latency of a successful agent call (the answering attempt); SampleCount = successful calls",
        Unit.MILLISECONDS,
        Kind.DISTRIBUTION,
    ),
    _by_type("AgentCallErrors", "An agent call gave no usable answer after its retries"),
    # --- the judge: domain/validation.py (verdicts) and domain/assignment.py (agent choice) ---------------
    _counter(
        "JudgeVerdicts",
        "One judge evaluation of an agent's output; 'unavailable' = no verdict (timeout, 5xx, bad answer)",
        dimensions=("verdict",),
        rollups=((),),
        values={"verdict": VERDICTS},
    ),
    MetricSpec(
        "JudgeLatencyMs",
        Unit.MILLISECONDS,
        Kind.DISTRIBUTION,
        "Latency of a judge call that answered",
        dimensions=("task",),
        rollups=((),),
        values={"task": JUDGE_TASKS},
    ),
    _counter(
        "JudgeTokens",
        "Tokens (prompt + completion) a judge call used",
        dimensions=("task",),
        rollups=((),),
        values={"task": JUDGE_TASKS},
    ),
    # --- checkpoints: domain/events.py hooks, called by the checkpoint domain ------------------------------
    _by_type("CheckpointsCreated", "A checkpoint started waiting for an admin"),
    _by_type("CheckpointsApproved", "An admin approved a checkpoint"),
    _by_type("CheckpointsRejected", "An admin rejected a checkpoint"),
    _by_type("CheckpointsExpired", "A checkpoint passed its expiry without a decision"),
    _by_type("CheckpointsChangesRequested", "An admin sent a checkpoint's job back to its agent with feedback"),
    _by_type("CheckpointsCancelled", "A checkpoint closed undecided because its job was cancelled"),
    MetricSpec(
        "CheckpointWaitSeconds",
        Unit.SECONDS,
        Kind.DISTRIBUTION,
        "Time a checkpoint waited for its decision",
        dimensions=(JOB_TYPE, "outcome"),
        rollups=(("outcome",), ()),
        values={"outcome": CHECKPOINT_OUTCOMES},
    ),
    # --- the scheduled run (functions/metrics): sweeper actions and gauges ---------------------------------
    _counter(
        "SweptJobs",
        "The sweeper acted on a stuck IN_PROGRESS job: re-sent its lost execute message, re-requested a lost "
        "validation, or failed it",
        dimensions=("action",),
        rollups=((),),
        values={"action": SWEEP_ACTIONS},
    ),
    MetricSpec(
        "JobsInStatus",
        Unit.COUNT,
        Kind.GAUGE,
        "Jobs now in a non-terminal status (capped at STATUS_COUNT_CAP); terminal totals come from the counters",
        dimensions=("status",),
        values={"status": GAUGED_STATUSES},
    ),
    MetricSpec("PendingCheckpoints", Unit.COUNT, Kind.GAUGE, "Checkpoints waiting for an admin's decision"),
    MetricSpec(
        "OldestPendingCheckpointAgeSeconds",
        Unit.SECONDS,
        Kind.GAUGE,
        "Age of the oldest PENDING checkpoint (0 when none waits)",
    ),
)

BY_NAME: dict[str, MetricSpec] = {spec.name: spec for spec in METRICS}


def dimension_sets(spec: MetricSpec) -> list[list[str]]:
    """The EMF dimension sets of ``spec``: the full set first, then the roll-ups; ``service`` in each."""
    return [[SERVICE_DIMENSION, *names] for names in (spec.dimensions, *spec.rollups)]


def emit(name: str, value: float, **dimensions: str) -> None:
    """Records one event (one sample) of metric ``name`` with its dimension sets: into the invocation's buffer
    inside :func:`invocation_metrics`, else written at once as one EMF line.

    The dimensions must be exactly the spec's (a typo or a leaked extra dimension raises, when the event happens),
    so a metric always lands in the series the dashboard reads.
    """
    spec = BY_NAME[name]
    if set(dimensions) != set(spec.dimensions):
        raise ValueError(f"{name} takes dimensions {spec.dimensions}, got {tuple(dimensions)}")
    for dimension, allowed in spec.values.items():
        if dimensions[dimension] not in allowed:
            raise ValueError(f"{name}: {dimension}={dimensions[dimension]!r} is not one of {allowed}")
    event = _Event(spec, float(value), tuple(str(dimensions[d]) for d in spec.dimensions), time.time())
    buffer = _buffer.get()
    if buffer is None or not buffer.add(event):
        _write(_group_of(event), [event])


@dataclass(frozen=True)
class _Event:
    spec: MetricSpec
    value: float
    dimension_values: tuple[str, ...]  # in the order of spec.dimensions
    at: float  # epoch seconds


# the events one EMF document can carry: same dimension names and values, same roll-ups, same minute
_Group = tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, ...], ...], int]


def _group_of(event: _Event) -> _Group:
    return (event.spec.dimensions, event.dimension_values, event.spec.rollups, int(event.at // 60))


class _Buffer:
    """One invocation's metric events. A lock guards it: an ``AsyncBatchProcessor``'s records emit from the event
    loop and from ``asyncio.to_thread`` workers at once. Once flushed it takes no more events (a task that outlives
    its invocation writes its own at once)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._groups: dict[_Group, list[_Event]] = {}
        self._open = True

    def add(self, event: _Event) -> bool:
        with self._lock:
            if not self._open:
                return False
            self._groups.setdefault(_group_of(event), []).append(event)
            return True

    def close(self) -> dict[_Group, list[_Event]]:
        with self._lock:
            self._open = False
            groups, self._groups = self._groups, {}
            return groups


# below EMF's (and Powertools') 100 metrics per document and 100 values per metric; Powertools would print the
# 100th on its own
MAX_EVENTS_PER_DOCUMENT = 99
_buffer: ContextVar[_Buffer | None] = ContextVar("agent_jobs_metrics_buffer", default=None)


@contextmanager
def invocation_metrics() -> Iterator[None]:
    """Buffers the metric events of what runs inside (the threads ``asyncio.to_thread`` starts and the tasks made
    inside share the context, so the buffer); writes them on the way out, exception or not, one EMF document per
    group."""
    buffer = _Buffer()
    token = _buffer.set(buffer)
    try:
        yield
    finally:
        _buffer.reset(token)
        for group, events in buffer.close().items():
            for start in range(0, len(events), MAX_EVENTS_PER_DOCUMENT):
                try:
                    _write(group, events[start : start + MAX_EVENTS_PER_DOCUMENT])
                except Exception:  # the handler's answer (or its exception) is not lost to a metric
                    from agent_jobs.observability import logger

                    logger.exception("writing the invocation's metrics failed", extra={"metrics": len(events)})


def _write(group: _Group, events: list[_Event]) -> None:
    """One EMF document of ``events`` (one group): each metric once in ``Metrics``, its values in order, stamped
    with the first event's time. A fresh Powertools EMF provider each time (the engine behind
    ``Metrics``/``single_metric``): nothing is shared between documents, so no dimension leaks from one to the
    next; the roll-up sets go in as Powertools' additional dimension sets. ``POWERTOOLS_METRICS_DISABLED`` is
    honoured."""
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    names, values, rollups, _ = group
    dimensions = dict(zip(names, values, strict=True))
    provider = AmazonCloudWatchEMFProvider(namespace=NAMESPACE, service=SERVICE)
    for event in events:
        provider.add_metric(name=event.spec.name, unit=event.spec.unit.value, value=event.value)
    provider.add_dimension(name=SERVICE_DIMENSION, value=SERVICE)
    for name in names:
        provider.add_dimension(name=name, value=dimensions[name])
    for rollup in rollups:
        provider.add_dimensions(**{SERVICE_DIMENSION: SERVICE}, **{d: dimensions[d] for d in rollup})
    provider.set_timestamp(int(events[0].at * 1000))
    provider.flush_metrics(raise_on_empty_metrics=True)
