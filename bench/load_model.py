"""What a month at a given load does to the per-job usage the bench measured: pure arithmetic, no AWS.

The bench measures each job's requests at whatever batch sizes it forms; on AWS the batch sizes, the idle
polling, the X-Ray sampling and the fixed monthly costs all depend on how many jobs arrive. This module holds
those load-dependent rules, each a small function the unit tests pin down (tests/unit/test_cost_model.py):

- ``sqs_batches``: an SQS event source mapping at an arrival rate — its pollers long-poll, a poll returns as
  soon as it finds a message (batching window 0) or when the window or the batch is full, and a poller is busy
  for the whole invocation, so batches only grow when every poller is busy. A seeded simulation (Poisson
  arrivals), because the mean batch of a pool of pollers has no simple closed form.
- ``stream_batches``: a DynamoDB stream's mapping reads each shard about four times a second and one batch at a
  time per shard (parallelization factor 1).
- ``xray_traces_per_second``: the default sampling rule (the first request each second, 5 % of the rest).
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass

HOURS_PER_MONTH = 730  # AWS prices monthly items (alarms, metrics, secrets) per 730 hours
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
LOADS_JOBS_PER_MONTH = (1_000_000, 10_000_000, 50_000_000)

# SQS event source mappings (AWS Lambda developer guide, "Using Lambda with Amazon SQS"): five pollers
# long-poll each queue (20 s waits) whatever the traffic; a mapping's maximum concurrency caps the invocations
# in flight, not the pollers.
SQS_POLLERS = 5
SQS_LONG_POLL_SECONDS = 20.0
# DynamoDB streams: Lambda reads each shard about four times a second. A new on-demand table is created with
# capacity for 4,000 writes a second (4 partitions at 1,000 WCU each), so its stream has about 4 shards.
STREAM_POLL_SECONDS = 0.25
STREAM_SHARDS = 4
# X-Ray's default sampling rule, which Lambda applies to every invocation that starts a trace.
XRAY_RESERVOIR_PER_SECOND = 1
XRAY_FIXED_RATE = 0.05


def jobs_per_second(jobs_per_month: float) -> float:
    return jobs_per_month / SECONDS_PER_MONTH


@dataclass(frozen=True)
class BatchCost:
    """How long one invocation runs for a batch: ``per_batch + per_record * records`` seconds (billed time)."""

    per_batch_seconds: float
    per_record_seconds: float

    def seconds(self, records: int) -> float:
        return self.per_batch_seconds + self.per_record_seconds * records


@dataclass(frozen=True)
class Mapping:
    """An SQS event source mapping as infra deploys it (catalog.QUEUES and the template)."""

    max_concurrency: int
    batch_size: int = 10
    window_seconds: float = 0.0
    pollers: int = SQS_POLLERS


@dataclass(frozen=True)
class Batches:
    """What a consumer sees at a rate: per second of the month, on average."""

    records_per_second: float
    batches_per_second: float
    empty_receives_per_second: float = 0.0
    busy_invocations: float = 0.0  # mean invocations in flight

    @property
    def mean_batch(self) -> float:
        return self.records_per_second / self.batches_per_second if self.batches_per_second else 0.0


def _arrivals(rate: float, count: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    times, now = [], 0.0
    for _ in range(count):
        now += rng.expovariate(rate)
        times.append(now)
    return times


def sqs_batches(rate: float, mapping: Mapping, cost: BatchCost, *, messages: int = 20_000, seed: int = 7) -> Batches:
    """The batches an SQS mapping forms at ``rate`` messages a second (Poisson arrivals, ``messages`` of them).

    Each poller: receive (a long poll that returns at the first message, or empty after 20 s); with a window,
    keep gathering until the batch is full or the window has passed since that first message; wait for a free
    concurrency slot; invoke; receive again when the invocation ends. The pollers share the queue in the order
    they become ready (the first one waiting takes the next message)."""
    if rate <= 0:
        return Batches(0.0, 0.0, mapping.pollers / SQS_LONG_POLL_SECONDS)
    arrivals = _arrivals(rate, messages, seed)
    ready = [(0.0, poller) for poller in range(mapping.pollers)]
    heapq.heapify(ready)
    running: list[float] = []  # end times of the invocations in flight
    taken = batches = empty = 0
    busy_seconds = 0.0
    while taken < messages:
        at, poller = heapq.heappop(ready)
        first = max(at, arrivals[taken])
        if first - at > SQS_LONG_POLL_SECONDS:
            empty += 1
            heapq.heappush(ready, (at + SQS_LONG_POLL_SECONDS, poller))
            continue
        full_at = arrivals[min(taken + mapping.batch_size, messages) - 1]
        closes = min(first + mapping.window_seconds, full_at) if mapping.window_seconds else first
        count = 0
        while taken + count < messages and count < mapping.batch_size and arrivals[taken + count] <= closes:
            count += 1
        taken += count
        start = closes
        while len(running) >= mapping.max_concurrency:
            start = max(start, heapq.heappop(running))
        seconds = cost.seconds(count)
        heapq.heappush(running, start + seconds)
        busy_seconds += seconds
        batches += 1
        heapq.heappush(ready, (start + seconds, poller))
    span = max([arrivals[-1], *running])  # past the last arrival when the mapping cannot keep up
    return Batches(messages / span, batches / span, empty / span, busy_seconds / span)


def stream_batches(
    rate: float,
    cost: BatchCost,
    *,
    shards: int = STREAM_SHARDS,
    batch_size: int = 100,
    records: int = 20_000,
    seed: int = 11,
) -> Batches:
    """The batches a DynamoDB stream mapping forms at ``rate`` records a second spread over ``shards``: every
    read takes what arrived since the last (up to ``batch_size``), the next read comes a poll interval later or
    when the invocation ends, whichever is later. Empty reads cost nothing (Lambda's stream reads are free)."""
    if rate <= 0:
        return Batches(0.0, 0.0)
    per_shard = _arrivals(rate / shards, max(1, records // shards), seed)
    now, taken, batches, busy = 0.0, 0, 0, 0.0
    while taken < len(per_shard):
        now += STREAM_POLL_SECONDS
        if per_shard[taken] > now:
            now += math.floor((per_shard[taken] - now) / STREAM_POLL_SECONDS) * STREAM_POLL_SECONDS
            continue
        count = 0
        while taken + count < len(per_shard) and count < batch_size and per_shard[taken + count] <= now:
            count += 1
        taken += count
        batches += 1
        seconds = cost.seconds(count)
        busy += seconds
        now += max(0.0, seconds - STREAM_POLL_SECONDS)
    span = per_shard[-1]
    return Batches(len(per_shard) / span * shards, batches / span * shards, 0.0, busy / span * shards)


def xray_traces_per_second(
    rate: float, *, reservoir: int = XRAY_RESERVOIR_PER_SECOND, fixed_rate: float = XRAY_FIXED_RATE
) -> float:
    """Traces recorded per second for one sampled entry point receiving ``rate`` requests a second (Poisson):
    in each second the first ``reservoir`` requests, then ``fixed_rate`` of the others. At 0.4 requests a second
    that is 83 % of them; at 20 a second, 10 %."""
    if rate <= 0:
        return 0.0
    # E[min(N, reservoir)] for N ~ Poisson(rate) = sum over k = 1..reservoir of P(N >= k)
    p_less, term, from_reservoir = 0.0, math.exp(-rate), 0.0
    for k in range(reservoir):
        p_less += term  # P(N <= k)
        from_reservoir += 1 - p_less  # P(N >= k + 1)
        term *= rate / (k + 1)
    return from_reservoir + fixed_rate * (rate - from_reservoir)


def per_million_jobs(usd_per_month: float, jobs_per_month: float) -> float:
    """A monthly cost spread over the month's jobs, per million of them."""
    return usd_per_month * 1_000_000 / jobs_per_month
