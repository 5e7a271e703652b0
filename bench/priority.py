"""Priority: the pickup delay of a priority-9 job behind a backlog of 200 normal jobs.

In-process on moto: 200 normal jobs and then one priority-9 job are created through the API (the priority job
rides the execute-high queue), then both execute event source mappings are played at once, each with its
catalog concurrency (up to ``max_concurrency`` batches of up to 10 in flight), with an agent that takes
``--agent-seconds``. Pickup = when the agent receives the job's request, counted from the moment the mappings
start. The last normal job's pickup is what the priority job would have waited in one shared queue.

    python -m bench.priority --out priority.json [--backlog 200] [--agent-seconds 1.0]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.inprocess import Platform
from bench.servers import DelayedAgent, judge_server
from bench.slow_agents import create, register


class MappingPlayer:
    """One event source mapping: polls its queue and keeps up to ``concurrency`` invocations in flight."""

    def __init__(self, platform: Platform, key: str, concurrency: int, batch: int) -> None:
        self.platform, self.key, self.concurrency, self.batch = platform, key, concurrency, batch
        self.stopping = threading.Event()
        self.slots = threading.Semaphore(concurrency)
        self.workers: list[threading.Thread] = []
        self.thread = threading.Thread(target=self._loop, name=f"esm-{key}", daemon=True)

    def _loop(self) -> None:
        while not self.stopping.is_set():
            if not self.slots.acquire(timeout=0.1):
                continue
            messages = self.platform.receive(self.key, max_messages=self.batch)
            if not messages:
                self.slots.release()
                self.stopping.wait(0.02)
                continue
            worker = threading.Thread(target=self._invoke, args=(messages,), daemon=True)
            self.workers.append(worker)
            worker.start()

    def _invoke(self, messages: list[dict[str, Any]]) -> None:
        try:
            self.platform.consume(self.key, messages)
        finally:
            self.slots.release()

    def start(self) -> MappingPlayer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(5)
        for worker in self.workers:
            worker.join(30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--backlog", type=int, default=200)
    parser.add_argument("--agent-seconds", type=float, default=1.0)
    options = parser.parse_args(argv)
    from agent_jobs.catalog import QUEUES

    judge = judge_server().start()
    try:
        with (
            DelayedAgent(options.agent_seconds) as agent,
            Platform({"OPENAI_BASE_URL": judge.base_url}, concurrent=True) as platform,
        ):
            agent_id = register(platform, agent.url)
            create(platform, agent_id)  # warm-up
            platform.deliver("execute")
            print(f"priority: creating {options.backlog} normal jobs and 1 priority-9 job", file=sys.stderr)
            normal = [create(platform, agent_id, priority=5) for _ in range(options.backlog)]
            urgent = create(platform, agent_id, priority=9)
            players = [
                MappingPlayer(platform, spec.key, spec.max_concurrency, spec.batch_size)
                for spec in QUEUES
                if spec.key in ("execute", "execute-high")
            ]
            mark = len(agent.received())
            started = time.perf_counter()
            for player in players:
                player.start()
            deadline = started + 120
            while len({job for _, job, _ in agent.received()[mark:]}) < len(normal) + 1:
                if time.perf_counter() > deadline:
                    print("priority: not every job was picked up in 120 s", file=sys.stderr)
                    break
                time.sleep(0.05)
            for player in players:
                player.stop()
            failed = sum(inv.failures for inv in platform.invocations)
    finally:
        judge.stop()
    pickups = {job: at - started for at, job, _ in agent.received()[mark:]}
    if urgent not in pickups:
        raise RuntimeError("the priority job was never picked up")
    waits = sorted(pickups[job] for job in normal if job in pickups)
    output = {
        "backlog": options.backlog,
        "pickedUp": len(pickups),
        "failedRecords": failed,
        "agentSeconds": options.agent_seconds,
        "priorityPickupSeconds": round(pickups[urgent], 3),
        "normalPickupSeconds": {
            "p50": round(statistics.median(waits), 3),
            "p90": round(waits[int(0.9 * (len(waits) - 1))], 3),
            "last": round(waits[-1], 3),
        },
        "concurrency": {p.key: p.concurrency for p in players},
    }
    print(f"priority: picked up after {output['priorityPickupSeconds']} s", file=sys.stderr)
    options.out.write_text(json.dumps(output, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
