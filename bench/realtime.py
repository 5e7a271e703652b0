"""Real time on the local stack (DESIGN.md §15): how long from a job's write to its WebSocket frame.

A user subscribes (``scope: mine``) on ``realtimeUrl`` and creates simple jobs one after another; every frame's
latency is its arrival time minus the event's ``createdAt`` (the write's own ``updatedAt``: the same clock, this
machine's). The path measured is the whole one: the jobs table's stream (played by the local stack), the events
function, ``subscribers.deliver``, post_to_connection to the gateway, the frame.

    PYTHONPATH=layers/common:. .venv/bin/python -m bench.realtime [--jobs 20] [--out bench/results.json]

Writes its figures under ``realtime`` in the results file (the other keys are kept).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

from bench.local_stack import LocalStack, parse_time

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "bench" / "results.json"
TERMINAL = {"job.completed", "job.failed", "job.rejected", "job.cancelled"}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(jobs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-realtime-") as workdir, LocalStack(Path(workdir)) as stack:
        token = stack.state["tokens"]["user"]
        latencies: dict[str, list[float]] = {}
        with connect(f"{stack.state['realtimeUrl']}?token={token}", open_timeout=10) as socket:
            socket.send(json.dumps({"action": "subscribe", "scope": "mine"}))
            assert json.loads(socket.recv(timeout=10))["type"] == "subscribed"
            for _ in range(jobs):
                job = stack.create({"jobType": "simple-task", "taskDescription": "bench realtime", "inputData": {}})
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    frame = json.loads(socket.recv(timeout=30))
                    arrived = time.time()
                    latencies.setdefault(frame["type"], []).append(arrived - parse_time(frame["createdAt"]))
                    if frame["data"]["job"]["id"] == job["id"] and frame["type"] in TERMINAL:
                        break
        every = [value for values in latencies.values() for value in values]
        return {
            "what": "seconds from a job's write (the event's createdAt) to its WebSocket frame, local stack",
            "jobs": jobs,
            "frames": len(every),
            "p50Seconds": round(statistics.median(every), 3),
            "p90Seconds": round(_percentile(every, 0.9), 3),
            "maxSeconds": round(max(every), 3),
            "p50ByType": {kind: round(statistics.median(values), 3) for kind, values in sorted(latencies.items())},
            "target": "p50 <= 1 s (DESIGN.md §15)",
            "measuredAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    options = parser.parse_args(argv)
    figures = measure(options.jobs)
    results = json.loads(options.out.read_text()) if options.out.exists() else {}
    results["realtime"] = figures
    options.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
