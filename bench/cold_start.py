"""Cold start: the import time of each handler module in fresh interpreters, as a ratio to ``import boto3``.

Each measurement is a new process running
``import time; t = time.perf_counter(); import functions.<name>.handler; print(time.perf_counter() - t)``
with ``PYTHONPATH=layers/common:.`` and the environment Lambda gives the function as infra/ deploys it (the task
root, a function name, the X-Ray daemon address, and ``POWERTOOLS_TRACE_DISABLED`` where ``FunctionSpec.traced``
is off), so Powertools' Tracer patches what it patches on AWS. One
unmeasured run per module first writes the bytecode caches. Each handler's runs alternate with runs of ``import
boto3`` and its ratio is the median of its own runs over the median of those boto3 runs, so a load that changes
during the benchmark moves both sides. When a handler is over the target, ``python -X
importtime`` says which packages its import spends the time in (self time summed per top-level package).

    python -m bench.cold_start --out cold_start.json [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.5
SNIPPET = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
IMPORTTIME_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


def environment(function: str) -> dict[str, str]:
    from agent_jobs.catalog import FUNCTIONS, TRACE_DISABLED_ENV  # main() puts layers/common on the path

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "PYTHON"))}
    env.update(
        {
            "PYTHONPATH": f"{ROOT / 'layers' / 'common'}{os.pathsep}{ROOT}",
            "LAMBDA_TASK_ROOT": str(ROOT),
            "AWS_LAMBDA_FUNCTION_NAME": f"agent-jobs-{function}",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_SERVICE_NAME": "agent-jobs",
            "POWERTOOLS_METRICS_NAMESPACE": "AgentJobs",
        }
    )
    if function in FUNCTIONS and not FUNCTIONS[function].traced:  # as infra/lambdas.py deploys it
        env[TRACE_DISABLED_ENV] = "true"
    return env


def import_seconds(module: str, env: dict[str, str]) -> float:
    done = subprocess.run(
        [sys.executable, "-c", SNIPPET.format(module=module)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def biggest_imports(module: str, env: dict[str, str], top: int = 8, runs: int = 3) -> dict[str, Any]:
    """Where the import spends its time (``-X importtime`` self times, the least of ``runs`` runs so that a
    scheduling hiccup does not show up as a slow module): summed per top-level package, and the slowest
    modules."""
    packages: dict[str, list[int]] = defaultdict(list)
    modules: dict[str, list[int]] = defaultdict(list)
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        per_package: dict[str, int] = defaultdict(int)
        for line in done.stderr.splitlines():
            match = IMPORTTIME_LINE.match(line)
            if match:
                name, self_us = match.group(4), int(match.group(1))
                per_package[name.split(".")[0]] += self_us
                modules[name].append(self_us)
        for name, total in per_package.items():
            packages[name].append(total)

    def ranked(found: dict[str, list[int]]) -> list[dict[str, Any]]:
        least = sorted(((name, min(values)) for name, values in found.items()), key=lambda kv: -kv[1])[:top]
        return [{"name": name, "ms": round(us / 1000, 1)} for name, us in least]

    return {"packages": ranked(packages), "modules": ranked(modules)}


def summary(module: str, samples: list[float]) -> dict[str, Any]:
    return {
        "module": module,
        "medianSeconds": round(statistics.median(samples), 4),
        "minSeconds": round(min(samples), 4),
        "maxSeconds": round(max(samples), 4),
        "runs": len(samples),
    }


def measure_pair(module: str, env: dict[str, str], runs: int) -> tuple[list[float], list[float]]:
    """``runs`` imports of ``module`` and of ``boto3``, alternating, so a machine whose load changes while the
    benchmark runs slows both sides of the ratio alike."""
    baseline_env = environment("baseline")
    import_seconds(module, env)  # bytecode caches
    import_seconds("boto3", baseline_env)
    handler, boto3 = [], []
    for _ in range(runs):
        boto3.append(import_seconds("boto3", baseline_env))
        handler.append(import_seconds(module, env))
    return handler, boto3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Import time of each handler vs import boto3")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per module (the median is reported)")
    options = parser.parse_args(argv)
    sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT)]
    from agent_jobs.catalog import FUNCTIONS

    handlers: dict[str, Any] = {}
    all_boto3: list[float] = []
    for name in FUNCTIONS:
        if not (ROOT / "functions" / name / "handler.py").exists():
            continue
        print(f"cold start: {name}", file=sys.stderr, flush=True)
        env = environment(name)
        samples, boto3 = measure_pair(f"functions.{name}.handler", env, options.runs)
        all_boto3 += boto3
        result = summary(f"functions.{name}.handler", samples)
        result["boto3MedianSeconds"] = round(statistics.median(boto3), 4)
        result["ratioToBoto3"] = round(statistics.median(samples) / statistics.median(boto3), 2)
        result["withinTarget"] = result["ratioToBoto3"] <= TARGET_RATIO
        if not result["withinTarget"]:
            result["biggestImports"] = biggest_imports(result["module"], env)
        handlers[name] = result
    output = {
        "targetRatio": TARGET_RATIO,
        "boto3": summary("boto3", all_boto3 or [0.0]),
        "handlers": handlers,
        "worstRatio": max((h["ratioToBoto3"] for h in handlers.values()), default=None),
    }
    options.out.write_text(json.dumps(output, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
