"""Latency and throughput on the local stack (``python -m local.stack``), instant agent and judge.

- latency: simple jobs one at a time, create → COMPLETED, as the client sees it (``POST /api/jobs`` sent →
  first ``GET /api/jobs/{id}`` answering COMPLETED, polled every 50 ms) and as the job's own timestamps say
  (``updatedAt - createdAt``); with ``agentId`` given, and without (auto-assign by the judge first).
- throughput: jobs created by 4 client threads for ``--seconds`` (after a 5 s ramp), as fast as the stack takes
  them while at most ``--in-flight`` messages wait on the execute and validate queues (so moto's queues never
  pile up); jobs/s = jobs that reached COMPLETED inside the window / window. Where the time went comes from
  ``bench.stack_probe``: CPU of the stack process (gateway, handlers, pollers) and of the moto server, the
  handlers' time and the AWS calls inside them.

The example agents and the offline judge stand-in answer at once (instant agent and judge).

    python -m bench.latency --out latency.json [--jobs 30] [--seconds 60]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.local_stack import LocalStack, parse_time

POLL_SECONDS = 0.05
RAMP_SECONDS = 5.0
SUBMITTERS = 4
LATENCY_TARGET_SECONDS = 1.0
THROUGHPUT_TARGET = 10.0


def simple_job(agent_id: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "jobType": "simple-task",
        "taskDescription": "Process user data",
        "acceptanceCriteria": "The user data is processed and the action is reported",
        "inputData": {"userId": "user-123", "action": "update-profile"},
        "priority": 5,
    }
    if agent_id:
        body["agentId"] = agent_id
    return body


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 3)

    return {
        "p50": round(statistics.median(ordered), 3),
        "p90": at(0.9),
        "max": round(ordered[-1], 3),
        "n": len(ordered),
    }


def one_job(stack: LocalStack, body: dict[str, Any], timeout: float = 30.0) -> tuple[float, float]:
    sent = time.perf_counter()
    job = stack.create(body)
    deadline = sent + timeout
    while time.perf_counter() < deadline:
        current = stack.job(job["id"])
        if current["status"] == "COMPLETED":
            seen = time.perf_counter() - sent
            return seen, parse_time(current["updatedAt"]) - parse_time(current["createdAt"])
        if current["status"] in ("FAILED", "REJECTED", "RESUBMISSION_REQUIRED"):
            raise RuntimeError(f"job {job['id']} ended {current['status']}")
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"job {job['id']} not COMPLETED in {timeout} s")


def latency(stack: LocalStack, jobs: int, auto_jobs: int) -> dict[str, Any]:
    agent_id = stack.agent_id("simple-task")
    for _ in range(3):  # warm-up
        one_job(stack, simple_job(agent_id))
    result: dict[str, Any] = {}
    for name, count, agent in (("agentIdGiven", jobs, agent_id), ("autoAssign", auto_jobs, None)):
        seen, recorded = [], []
        for _ in range(count):
            client_seconds, server_seconds = one_job(stack, simple_job(agent))
            seen.append(client_seconds)
            recorded.append(server_seconds)
        result[name] = {"clientSeconds": percentiles(seen), "serverSeconds": percentiles(recorded)}
    return result


def throughput(stack: LocalStack, seconds: float, in_flight: int) -> dict[str, Any]:
    agent_id = stack.agent_id("simple-task")
    stop = threading.Event()
    open_gate = threading.Event()
    open_gate.set()
    submitted: list[float] = []
    errors: Counter[str] = Counter()
    depths: list[int] = []

    def control() -> None:
        while not stop.is_set():
            depth = stack.queue_depth()
            depths.append(depth)
            if depth < in_flight:
                open_gate.set()
            else:
                open_gate.clear()
            stop.wait(0.25)

    def submit() -> None:
        client = stack.http(stack.state["tokens"]["user"])
        with client:
            while not stop.is_set():
                if not open_gate.wait(0.25):
                    continue
                try:
                    stack.create(simple_job(agent_id), client)
                    submitted.append(time.time())
                except Exception as exc:
                    errors[type(exc).__name__] += 1

    threads = [threading.Thread(target=control, daemon=True)]
    threads += [threading.Thread(target=submit, daemon=True) for _ in range(SUBMITTERS)]
    started = time.time()
    for thread in threads:
        thread.start()
    time.sleep(RAMP_SECONDS)
    before = stack.probe()
    window_start = time.time()
    time.sleep(seconds)
    window_end = time.time()
    after = stack.probe()
    stop.set()
    for thread in threads:
        thread.join(60)
    drain_deadline = time.monotonic() + 60
    while stack.queue_depth() and time.monotonic() < drain_deadline:
        time.sleep(0.5)
    jobs = [j for j in stack.my_jobs() if parse_time(j["createdAt"]) >= started - 1]
    completed_at = [parse_time(j["updatedAt"]) for j in jobs if j["status"] == "COMPLETED"]
    in_window = [t for t in completed_at if window_start <= t < window_end]
    buckets = [
        sum(1 for t in in_window if window_start + i * 10 <= t < window_start + (i + 1) * 10) / 10
        for i in range(int(seconds // 10))
    ]
    under_load = [
        parse_time(j["updatedAt"]) - parse_time(j["createdAt"])
        for j in jobs
        if j["status"] == "COMPLETED" and window_start <= parse_time(j["createdAt"]) < window_end
    ]
    return {
        "windowSeconds": round(window_end - window_start, 2),
        "jobsPerSecond": round(len(in_window) / (window_end - window_start), 2),
        "jobsPerSecondEvery10s": buckets,
        "createdInWindow": sum(1 for t in submitted if window_start <= t < window_end),
        "completedInWindow": len(in_window),
        "statuses": dict(Counter(j["status"] for j in jobs)),
        "createErrors": dict(errors),
        "maxQueueDepth": max(depths, default=0),
        "inFlightCap": in_flight,
        "latencyUnderLoadSeconds": percentiles(under_load),
        "whereTheTimeWent": where_time_went(before, after, len(in_window)),
    }


def where_time_went(before: dict[str, Any], after: dict[str, Any], completed: int) -> dict[str, Any]:
    wall = after["at"] - before["at"]
    per_job = max(1, completed)

    def delta(section: str, key: str, field: str) -> float:
        return float(after[section].get(key, {}).get(field, 0.0)) - float(before[section].get(key, {}).get(field, 0.0))

    functions = {}
    for name in after["functions"]:
        invocations = delta("functions", name, "invocations")
        if not invocations:
            continue
        functions[name] = {
            "invocations": int(invocations),
            "recordsPerInvocation": round(delta("functions", name, "records") / invocations, 2),
            "wallSeconds": round(delta("functions", name, "wallSeconds"), 2),
            "cpuSeconds": round(delta("functions", name, "cpuSeconds"), 2),
            "awsCalls": int(delta("functions", name, "awsCalls")),
            "awsWallSeconds": round(delta("functions", name, "awsWallSeconds"), 2),
        }
    calls = {}
    for kind in after["aws"]:
        count = delta("aws", kind, "calls")
        if count:
            calls[kind] = {
                "calls": int(count),
                "outsideHandlers": int(count - delta("aws", kind, "inHandlerCalls")),
                "wallSeconds": round(delta("aws", kind, "wallSeconds"), 2),
            }
    stack_cpu = after["stackCpuSeconds"] - before["stackCpuSeconds"]
    moto_cpu = (after["motoCpuSeconds"] or 0.0) - (before["motoCpuSeconds"] or 0.0)
    handler_cpu = sum(f["cpuSeconds"] for f in functions.values())
    return {
        "wallSeconds": round(wall, 2),
        "cpuSeconds": {
            "motoServer": round(moto_cpu, 2),
            "stackProcess": round(stack_cpu, 2),
            "ofWhichHandlers": round(handler_cpu, 2),
            "ofWhichGatewayPollersAndRest": round(stack_cpu - handler_cpu, 2),
        },
        "cpuMsPerCompletedJob": {
            "motoServer": round(moto_cpu / per_job * 1000, 1),
            "handlers": round(handler_cpu / per_job * 1000, 1),
            "gatewayPollersAndRest": round((stack_cpu - handler_cpu) / per_job * 1000, 1),
        },
        "coresBusy": round((stack_cpu + moto_cpu) / wall, 2) if wall else None,
        "functions": functions,
        "awsCalls": dict(sorted(calls.items(), key=lambda kv: -kv[1]["calls"])),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--jobs", type=int, default=30, help="latency: jobs with agentId")
    parser.add_argument("--auto-jobs", type=int, default=10, help="latency: jobs auto-assigned")
    parser.add_argument("--seconds", type=float, default=60.0, help="throughput window")
    parser.add_argument("--in-flight", type=int, default=60, help="throughput: queue depth the clients keep")
    parser.add_argument("--workdir", type=Path, help="state file, probe and log of the stack (default: a temp dir)")
    options = parser.parse_args(argv)
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="bench-stack-"))
    started = time.monotonic()
    with LocalStack(workdir) as stack:
        ready = time.monotonic() - started
        print(f"latency: local stack ready in {ready:.1f} s ({stack.state['apiUrl']})", file=sys.stderr, flush=True)
        lat = latency(stack, options.jobs, options.auto_jobs)
        print(
            f"latency: p50 {lat['agentIdGiven']['clientSeconds']['p50']} s; throughput for {options.seconds:.0f} s",
            file=sys.stderr,
            flush=True,
        )
        thr = throughput(stack, options.seconds, options.in_flight)
    output = {
        "stack": {"readySeconds": round(ready, 1)},
        "latency": lat,
        "latencyTargetSeconds": LATENCY_TARGET_SECONDS,
        "latencyWithinTarget": lat["agentIdGiven"]["clientSeconds"]["p50"] <= LATENCY_TARGET_SECONDS,
        "throughput": thr,
        "throughputTarget": THROUGHPUT_TARGET,
        "throughputWithinTarget": thr["jobsPerSecond"] >= THROUGHPUT_TARGET,
    }
    options.out.write_text(json.dumps(output, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
