"""The seeds' worker model side by side with ours: a small discrete-event simulation, same jobs, same latencies.

- seeds (seed 004's AgentWorker): every ``pollInterval`` (5 s) the worker takes PENDING jobs, oldest first, up
  to ``maxConcurrentJobs`` (3) running; each job calls its agent, then the judge, one after the other, and holds
  its slot until both answered. A slot freed between polls waits for the next poll.
- ours: the execute queue's event source mapping runs up to 5 invocations at once, each with a batch of up to
  10 messages taken as soon as a poller is free (``--poll-seconds`` to pick a message up); a batch takes one
  agent call (records run concurrently) plus the handler's own time; then the same for the validate queue
  and the judge. The high-priority queue is left out (same mix for both).

Jobs arrive as a Poisson process at each rate for ``--seconds`` simulated seconds (seeded, so repeatable).
Pickup = arrival → agent call starts; end-to-end = arrival → judged.

    python -m bench.baseline --out baseline.json [--agent-seconds 1] [--judge-seconds 1]
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import random
import statistics
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RATES = (0.2, 1.0, 5.0, 20.0)  # jobs per second
SEEDS_POLL_SECONDS = 5.0
SEEDS_MAX_CONCURRENT = 3


@dataclass
class Job:
    arrived: float
    picked: float | None = None
    done: float | None = None


@dataclass(order=True)
class _Event:
    at: float
    order: int
    action: Callable[[float], None] = field(compare=False)


class Simulation:
    def __init__(self) -> None:
        self.events: list[_Event] = []
        self._order = 0

    def at(self, when: float, action: Callable[[float], None]) -> None:
        self._order += 1
        heapq.heappush(self.events, _Event(when, self._order, action))

    def run(self, until: float) -> None:
        while self.events and self.events[0].at <= until:
            event = heapq.heappop(self.events)
            event.action(event.at)


def seeds_cycle(job_seconds: float) -> float:
    """How long a seeds worker slot is held per job: the job, rounded up to whole poll intervals."""
    return math.ceil(job_seconds / SEEDS_POLL_SECONDS) * SEEDS_POLL_SECONDS


def arrivals(rate: float, seconds: float, seed: int = 7) -> list[Job]:
    rng = random.Random(seed)
    jobs: list[Job] = []
    now = 0.0
    while True:
        now += rng.expovariate(rate)
        if now >= seconds:
            return jobs
        jobs.append(Job(now))


def seeds_worker(jobs: list[Job], agent: float, judge: float, seconds: float) -> None:
    sim = Simulation()
    pending: deque[Job] = deque()
    running = [0]

    def finish(_now: float) -> None:
        running[0] -= 1

    def poll(now: float) -> None:
        while running[0] < SEEDS_MAX_CONCURRENT and pending:
            job = pending.popleft()
            job.picked = now
            job.done = now + agent + judge
            running[0] += 1
            sim.at(job.done, finish)
        sim.at(now + SEEDS_POLL_SECONDS, poll)

    def arrive(job: Job) -> Callable[[float], None]:
        return lambda _now: pending.append(job)

    for job in jobs:
        sim.at(job.arrived, arrive(job))
    sim.at(random.Random(11).uniform(0, SEEDS_POLL_SECONDS), poll)
    sim.run(seconds)


class _Mapping:
    """One event source mapping: up to ``concurrency`` batches of up to ``batch`` in flight."""

    def __init__(self, sim: Simulation, work: float, concurrency: int, batch: int, poll: float) -> None:
        self.sim, self.work, self.concurrency, self.batch, self.poll = sim, work, concurrency, batch, poll
        self.queue: deque[Job] = deque()
        self.busy = 0
        self.then: Callable[[Job, float], None] = lambda job, now: None
        self.started: Callable[[Job, float], None] = lambda job, now: None

    def push(self, job: Job, now: float) -> None:
        self.queue.append(job)
        self.sim.at(now + self.poll, self._take)

    def _take(self, now: float) -> None:
        while self.busy < self.concurrency and self.queue:
            taken = [self.queue.popleft() for _ in range(min(self.batch, len(self.queue)))]
            self.busy += 1
            for job in taken:
                self.started(job, now)
            self.sim.at(now + self.work, self._finisher(taken))

    def _finisher(self, taken: list[Job]) -> Callable[[float], None]:
        return lambda now: self._done(taken, now)

    def _done(self, taken: list[Job], now: float) -> None:
        self.busy -= 1
        for job in taken:
            self.then(job, now)
        self._take(now + self.poll)


def our_platform(jobs: list[Job], agent: float, judge: float, seconds: float, options: argparse.Namespace) -> None:
    sim = Simulation()
    execute = _Mapping(sim, agent + options.execute_overhead, 5, 10, options.poll_seconds)
    validate = _Mapping(sim, judge + options.validate_overhead, 5, 10, options.poll_seconds)

    def picked(job: Job, now: float) -> None:
        job.picked = now

    def judged(job: Job, now: float) -> None:
        job.done = now

    execute.started = picked
    execute.then = validate.push
    validate.then = judged

    def arrive(job: Job) -> Callable[[float], None]:
        return lambda now: execute.push(job, now)

    for job in jobs:
        sim.at(job.arrived, arrive(job))
    sim.run(seconds)


def summary(jobs: list[Job], seconds: float) -> dict[str, Any]:
    def pct(values: list[float], q: float) -> float | None:
        if not values:
            return None
        ordered = sorted(values)
        return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 2)

    pickups = [j.picked - j.arrived for j in jobs if j.picked is not None]
    ends = [j.done - j.arrived for j in jobs if j.done is not None and j.done <= seconds]
    return {
        "pickupSeconds": {"p50": round(statistics.median(pickups), 2) if pickups else None, "p90": pct(pickups, 0.9)},
        "endToEndSeconds": {"p50": round(statistics.median(ends), 2) if ends else None, "p90": pct(ends, 0.9)},
        "completedPerSecond": round(len(ends) / seconds, 2),
        "waitingAtEnd": sum(1 for j in jobs if j.picked is None),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=600.0, help="simulated time per rate")
    parser.add_argument("--agent-seconds", type=float, default=1.0)
    parser.add_argument("--judge-seconds", type=float, default=1.0)
    parser.add_argument("--poll-seconds", type=float, default=0.05, help="ours: a free poller picks a message up")
    parser.add_argument("--execute-overhead", type=float, default=0.5, help="ours: handler time per execute batch")
    parser.add_argument("--validate-overhead", type=float, default=0.4, help="ours: handler time per validate batch")
    options = parser.parse_args(argv)
    results = []
    for rate in RATES:
        seeds_jobs = arrivals(rate, options.seconds)
        ours_jobs = arrivals(rate, options.seconds)
        seeds_worker(seeds_jobs, options.agent_seconds, options.judge_seconds, options.seconds)
        our_platform(ours_jobs, options.agent_seconds, options.judge_seconds, options.seconds, options)
        results.append(
            {
                "arrivalsPerSecond": rate,
                "jobs": len(seeds_jobs),
                "seeds": summary(seeds_jobs, options.seconds),
                "ours": summary(ours_jobs, options.seconds),
            }
        )
    output = {
        "model": {
            "agentSeconds": options.agent_seconds,
            "judgeSeconds": options.judge_seconds,
            "simulatedSeconds": options.seconds,
            "seeds": {"pollSeconds": SEEDS_POLL_SECONDS, "maxConcurrentJobs": SEEDS_MAX_CONCURRENT},
            "ours": {
                "executeConcurrency": 5,
                "validateConcurrency": 5,
                "batch": 10,
                "pollSeconds": options.poll_seconds,
                "executeOverheadSeconds": options.execute_overhead,
                "validateOverheadSeconds": options.validate_overhead,
            },
        },
        "capacityJobsPerSecond": {  # seeds: a freed slot waits for the next poll
            "seeds": round(SEEDS_MAX_CONCURRENT / seeds_cycle(options.agent_seconds + options.judge_seconds), 2),
            "ours": round(
                min(
                    5 * 10 / (options.agent_seconds + options.execute_overhead),
                    5 * 10 / (options.judge_seconds + options.validate_overhead),
                ),
                1,
            ),
        },
        "rates": results,
    }
    options.out.write_text(json.dumps(output, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
