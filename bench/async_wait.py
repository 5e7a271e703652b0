"""Async agents' waits: 1,000 jobs whose agent answered 202 cost no Lambda time while they wait (DESIGN.md §14).

In-process on moto with the real handlers: an agent that answers 202 Accepted at once, 1,000 jobs created and
dispatched (the execute step parks each), then a wait during which the execute and validate queues are polled
as their event source mappings would and the scheduled metrics function (gauges + sweeper) runs as EventBridge
would, every handler invocation counted with its GB-s (wall time times the function's memory, as Lambda bills).
Then signed callbacks: heartbeats and completions for a sample, each one short API invocation.

    python -m bench.async_wait --out async_wait.json [--jobs 1000] [--wait-seconds 10] [--sample 100]

The figures: invocations and GB-s to park the jobs, during the wait (none but the schedule's own), per
callback; and what holding the same wait inside ``execute_job`` would bill (one invocation per batch of 10,
for the whole wait; impossible past the function's 180 s timeout anyway).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

from bench.inprocess import Invocation, Platform
from bench.servers import judge_server

SECRET = "bench-async-secret-0123456789"
PUBLIC_URL = "https://api.bench.example"
OUTPUT = {"summary": "done"}
OUTPUT_SCHEMA = {"type": "object", "required": ["summary"], "properties": {"summary": {"type": "string"}}}
CREATE_CHUNK = 100  # jobs created, then dispatched, at a time: SQS on moto slows down as a queue deepens
HOUR = 3600


class _Accepting(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))
        status, answer = (200, OUTPUT) if body.get("check") else (202, {"status": "accepted"})
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def gb_seconds(invocations: list[Invocation]) -> float:
    """What Lambda bills: each invocation's duration times its function's memory."""
    from agent_jobs.catalog import FUNCTIONS

    return sum(i.wall_seconds * FUNCTIONS[i.function].memory_mb / 1024 for i in invocations)


def figures(invocations: list[Invocation]) -> dict[str, Any]:
    by_function: dict[str, int] = {}
    for invocation in invocations:
        by_function[invocation.function] = by_function.get(invocation.function, 0) + 1
    return {"invocations": len(invocations), "byFunction": by_function, "gbSeconds": round(gb_seconds(invocations), 3)}


def signed_callback(platform: Platform, job_id: str, body: dict[str, Any], msg_id: str) -> int:
    from agent_jobs.catalog import match_route
    from agent_jobs.integrations.signing import sign_headers
    from local.lambda_runtime import http_event

    path = f"/api/agent-callbacks/{job_id}/1"
    found = match_route("POST", path)
    assert found, path
    route, params = found
    raw = json.dumps(body).encode()
    headers = {
        "content-type": "application/json",
        **sign_headers(SECRET, raw, msg_id=msg_id, timestamp=int(time.time())),
    }
    result = platform.invoke(route.function, http_event(route, path, params, body=raw, headers=headers))
    return int(result["statusCode"])


def drain(platform: Platform, *keys: str) -> None:
    while sum(platform.deliver(key) for key in keys):
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--wait-seconds", type=float, default=10.0, help="wall time of the measured wait")
    parser.add_argument("--sample", type=int, default=100, help="jobs that then heartbeat and complete")
    options = parser.parse_args(argv)
    agent = ThreadingHTTPServer(("127.0.0.1", 0), _Accepting)
    agent.daemon_threads = True
    Thread(target=agent.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    judge = judge_server().start()
    settings = {
        "OPENAI_BASE_URL": judge.base_url,
        "PUBLIC_API_URL": PUBLIC_URL,
        "SWEEPER_MAX_JOBS_PER_RUN": "100",
        "STUCK_JOB_MARGIN_SECONDS": "0",  # the worst case: every waiting job is a candidate of every sweep
    }
    try:
        with Platform(settings) as platform:
            output = run(platform, f"http://127.0.0.1:{agent.server_address[1]}/agent", options)
    finally:
        judge.stop()
        agent.shutdown()
    options.out.write_text(json.dumps(output, indent=2))
    wait = output["wait"]
    print(f"async wait: {options.jobs} parked jobs, {wait['invocations']} invocations while waiting", file=sys.stderr)
    return 0


def run(platform: Platform, url: str, options: argparse.Namespace) -> dict[str, Any]:
    from agent_jobs.catalog import FUNCTIONS
    from agent_jobs.services import services

    body = {
        "name": "bench async agent",
        "endpointUrl": url,
        "secret": SECRET,
        "jobTypes": ["long-task"],
        "outputSchema": OUTPUT_SCHEMA,
        "mode": "async",
        "maxRunSeconds": 86400,
    }
    status, answer = platform.api("POST", "/api/admin/agents", body, admin=True)
    assert status == 201, answer
    agent_id = answer["agent"]["id"]
    job = {"jobType": "long-task", "taskDescription": "Long work", "inputData": {"n": 1}, "agentId": agent_id}

    # 1. create and dispatch: each execute invocation calls 10 agents, gets 202 ten times, parks ten jobs
    job_ids: list[str] = []
    mark = len(platform.invocations)
    started = time.perf_counter()
    while len(job_ids) < options.jobs:
        for _ in range(min(CREATE_CHUNK, options.jobs - len(job_ids))):
            status, created = platform.api("POST", "/api/jobs", job)
            assert status == 201, created
            job_ids.append(created["job"]["id"])
        drain(platform, "execute", "execute-high")
    dispatch = [i for i in platform.invocations[mark:] if i.function == "execute_job"]
    dispatch_seconds = time.perf_counter() - started
    parked = sum(1 for job_id in job_ids if (services().jobs.get(job_id) or _missing()).waiting_for == "agent")

    # 2. the wait: the event source mappings poll (empty queues: no invocation), the schedule runs its function
    mark = len(platform.invocations)
    began = time.monotonic()
    polls = scheduled = 0
    while time.monotonic() - began < options.wait_seconds:
        polls += 1
        for key in ("execute", "execute-high", "validate", "checkpoint"):
            platform.deliver(key)
        time.sleep(0.2)
    from local.scheduler import scheduled_event

    sweeps = []
    for _ in range(max(1, options.jobs // 100)):  # one scheduled run per page of the sweeper's cursor
        before = len(platform.invocations)
        platform.invoke("metrics", scheduled_event("us-east-1"), trigger="schedule")
        sweeps += platform.invocations[before:]
        scheduled += 1
    waited = platform.invocations[mark:]
    still_waiting = sum(1 for job_id in job_ids if (services().jobs.get(job_id) or _missing()).waiting_for == "agent")
    not_scheduled = [i for i in waited if i.trigger != "schedule"]

    # 3. signed callbacks for a sample: a heartbeat each, then the completion; then the judge
    sample = job_ids[: options.sample]
    mark = len(platform.invocations)
    for job_id in sample:
        assert signed_callback(platform, job_id, {"status": "working", "progress": 0.5}, f"{job_id}-hb") == 200
    heartbeats = platform.invocations[mark:]
    mark = len(platform.invocations)
    for job_id in sample:
        assert signed_callback(platform, job_id, {"status": "completed", "output": OUTPUT}, f"{job_id}-done") == 200
    completions = platform.invocations[mark:]
    drain(platform, "validate")
    completed = sum(1 for job_id in sample if (services().jobs.get(job_id) or _missing()).status == "COMPLETED")

    execute_gb = FUNCTIONS["execute_job"].memory_mb / 1024
    held_per_hour = options.jobs / 10 * HOUR * execute_gb  # one invocation per batch of 10, for the whole wait
    heartbeat_gb = gb_seconds(heartbeats) / max(1, len(heartbeats))
    sweep_gb = gb_seconds(sweeps) / max(1, len(sweeps))
    return {
        "jobs": options.jobs,
        "parked": parked,
        "dispatch": {**figures(dispatch), "wallSeconds": round(dispatch_seconds, 1)},
        "wait": {
            **figures(not_scheduled),
            "wallSeconds": options.wait_seconds,
            "queuePolls": polls,
            "jobsStillWaiting": still_waiting,
        },
        "scheduledRuns": {**figures(sweeps), "runs": scheduled, "gbSecondsPerRun": round(sweep_gb, 4)},
        "heartbeat": {**figures(heartbeats), "gbSecondsEach": round(heartbeat_gb, 5)},
        "completion": {**figures(completions), "jobsCompleted": completed, "of": len(sample)},
        "perHourOfWait": {
            "asyncGbSeconds": round(60 * sweep_gb, 2),
            "asyncGbSecondsWithHeartbeatsEveryMinute": round(60 * sweep_gb + 60 * options.jobs * heartbeat_gb, 1),
            "heldInExecuteJobGbSeconds": round(held_per_hour, 0),
            "note": "the schedule runs every minute whatever waits, its sweeper reading a page of 100 waiting jobs "
            "per run (asyncGbSeconds: 60 such runs); a held call could not last an hour: execute_job's timeout "
            "is 180 s",
        },
    }


def _missing() -> Any:
    raise AssertionError("a benchmark job disappeared")


if __name__ == "__main__":
    sys.exit(main())
