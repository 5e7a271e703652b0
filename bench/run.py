"""``make bench``: every benchmark, each in a fresh interpreter, then one table and ``bench/results.json``.

    python -m bench.run [--only cost,latency] [--quick] [--out bench/results.json]

Order: cold start first (it wants a quiet machine, and its import times are the INIT durations of the cost
model), then the in-process benchmarks on moto (cost, slow agents, async waits, priority), the simulation, and last the
local stack (latency, throughput). See bench/README.md for what each one measures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import report
from bench.local_stack import stack_available

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "bench" / "results.json"
SECTIONS = ("cold_start", "cost", "slow_agents", "async_wait", "priority", "baseline", "latency")
TIMEOUT_SECONDS = {
    "cold_start": 600,
    "cost": 600,
    "slow_agents": 120,
    "async_wait": 420,
    "priority": 240,
    "baseline": 60,
    "latency": 420,
}


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], check=False, cwd=ROOT, capture_output=True, text=True
    )
    dirty = subprocess.run(["git", "status", "--porcelain"], check=False, cwd=ROOT, capture_output=True, text=True)
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "gitCommit": (commit.stdout.strip() or None) if commit.returncode == 0 else None,
        "gitDirty": bool(dirty.stdout.strip()),
        "loadAverageAtStart": [round(x, 2) for x in os.getloadavg()],
    }


def _last_sections(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    sections: dict[str, Any] = json.loads(path.read_text()).get("sections", {})
    return sections


def section_args(name: str, workdir: Path, options: argparse.Namespace, results: dict[str, Any]) -> list[str]:
    args = ["--out", str(workdir / f"{name}.json")]
    if name == "cost":
        if (workdir / "cold_start.json").exists():  # this run's, or the last results.json's
            args += ["--cold-start", str(workdir / "cold_start.json")]
        if options.quick:
            args += ["--jobs", "20", "--checkpoint-jobs", "10", "--trickle-jobs", "5"]
    elif name == "cold_start" and options.quick:
        args += ["--runs", "3"]
    elif name == "async_wait" and options.quick:
        args += ["--jobs", "100", "--wait-seconds", "2", "--sample", "10"]
    elif name == "priority" and options.quick:
        args += ["--backlog", "60"]
    elif name == "baseline" and "cost" in results:
        execute, validate = report.batch_overheads(results["cost"])
        if execute is not None and validate is not None:
            args += ["--execute-overhead", f"{execute:.3f}", "--validate-overhead", f"{validate:.3f}"]
    elif name == "latency":
        args += ["--workdir", str(workdir / "stack")]
        if options.quick:
            args += ["--jobs", "10", "--auto-jobs", "3", "--seconds", "20"]
    return args


def run_section(name: str, workdir: Path, options: argparse.Namespace, results: dict[str, Any]) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "common"), str(ROOT)])
    command = [sys.executable, "-m", f"bench.{name}", *section_args(name, workdir, options, results)]
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, timeout=TIMEOUT_SECONDS[name], check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {TIMEOUT_SECONDS[name]} s", "seconds": round(time.monotonic() - started, 1)}
    seconds = round(time.monotonic() - started, 1)
    out = workdir / f"{name}.json"
    if done.returncode != 0 or not out.exists():
        return {"error": f"exit code {done.returncode}", "seconds": seconds}
    result: dict[str, Any] = json.loads(out.read_text())
    result["seconds"] = seconds
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the benchmarks, print the table, write results.json")
    parser.add_argument("--only", help=f"comma-separated sections of {', '.join(SECTIONS)}")
    parser.add_argument("--quick", action="store_true", help="fewer jobs and runs (a smoke test, not figures)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    options = parser.parse_args(argv)
    wanted = [s for s in SECTIONS if not options.only or s in options.only.split(",")]
    if "latency" in wanted and not stack_available():
        print("bench: local/stack.py is missing: latency and throughput skipped", file=sys.stderr)
        wanted.remove("latency")
    started = time.monotonic()
    results: dict[str, Any] = {}
    output: dict[str, Any] = {
        "startedAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "quick": options.quick,
    }
    with tempfile.TemporaryDirectory(prefix="bench-") as temporary:
        workdir = Path(temporary)
        last_cold_start = _last_sections(options.out).get("cold_start", {})
        if "cold_start" not in wanted and "handlers" in last_cold_start:  # INIT durations for the cost model
            (workdir / "cold_start.json").write_text(json.dumps(last_cold_start))
        for name in wanted:
            print(f"bench: {name} …", file=sys.stderr, flush=True)
            results[name] = run_section(name, workdir, options, results)
            print(f"bench: {name} done in {results[name]['seconds']} s", file=sys.stderr, flush=True)
    output["machine"]["loadAverageAtEnd"] = [round(x, 2) for x in os.getloadavg()]
    output["durationSeconds"] = round(time.monotonic() - started, 1)
    sections = results
    if options.only and options.out.exists():  # a partial run keeps the other sections of the last full one
        last = json.loads(options.out.read_text())
        sections = last.get("sections", {})
        if "cost" in sections and last.get("costAtLoad"):  # kept once, at the top
            sections["cost"]["costAtLoad"] = last["costAtLoad"]
        sections.update(results)
    output |= report.headline(sections)
    output["summary"] = report.summary(sections)
    output["sections"] = {name: report.without_cost_at_load(name, section) for name, section in sections.items()}
    if options.out.exists() and "realtime" in (last := json.loads(options.out.read_text())):
        output["realtime"] = last["realtime"]  # bench/realtime.py's figures: measured by that script alone
    options.out.write_text(json.dumps(output, indent=2) + "\n")
    print(report.table(output))
    print(f"\nwritten: {options.out} ({output['durationSeconds']} s)")
    return 0 if all("error" not in r for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
