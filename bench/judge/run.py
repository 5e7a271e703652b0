"""``make judge-eval``: the labelled judge cases against any OpenAI-compatible server.

Each case goes through the platform's own decision (``domain.validation.evaluate``: the job type's
deterministic checks, then the judge, then the verdict rules), exactly as a job would. With
``OPENAI_API_KEY`` set the judge is ``OPENAI_MODEL`` at ``OPENAI_BASE_URL`` (OpenAI when unset); without
it the offline stand-in runs on loopback and the run is a smoke test of the harness, said so in the
output and in ``results.json``: the stand-in's figures say nothing about a model.

    .venv/bin/python -m bench.judge.run [--cases bench/judge/cases.json] [--out bench/judge/results.json]
                                        [--only ID,ID] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases.json"
RESULTS = HERE / "results.json"
# The case set's job-type contract (every answer carries a non-empty "summary"), declared the way an operator
# declares one: the JOB_TYPE_OUTPUT_CHECKS setting. A setting already in the environment wins.
OUTPUT_CHECKS = HERE / "output_checks.json"
CATEGORIES = ("pass", "fail", "partial", "format", "injection")
OFFLINE_NOTE = "offline stand-in: a smoke test of the harness, not a measure of any model"


@dataclass(frozen=True)
class CaseResult:
    id: str
    category: str
    expected: str
    got: str  # pass, fail, too-large or unavailable
    reason: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    judge_calls: int
    seconds: float

    @property
    def agrees(self) -> bool:
        return self.got == self.expected or (self.expected == "fail" and self.got == "too-large")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "category": self.category,
            "expected": self.expected,
            "got": self.got,
            "agrees": self.agrees,
            "reason": self.reason[:300],
            "promptTokens": self.prompt_tokens,
            "completionTokens": self.completion_tokens,
            "costUsd": self.cost_usd,
            "judgeCalls": self.judge_calls,
            "seconds": round(self.seconds, 3),
        }


def load_cases(path: Path, only: Sequence[str] = ()) -> list[dict[str, Any]]:
    cases = json.loads(path.read_text(encoding="utf-8"))
    for case in cases:
        missing = {"id", "category", "description", "criteria", "output", "expected", "reason"} - set(case)
        if missing:
            raise ValueError(f"case {case.get('id')!r} lacks {sorted(missing)}")
        if case["expected"] not in ("pass", "fail") or case["category"] not in CATEGORIES:
            raise ValueError(f"case {case['id']!r}: expected must be pass/fail, category one of {CATEGORIES}")
    return [c for c in cases if not only or c["id"] in only]


def _job(case: dict[str, Any]) -> Any:
    from agent_jobs.models.jobs import Job

    criteria = case["criteria"]
    return Job(
        id=f"eval-{case['id']}",
        user_id="judge-eval",
        name=case["id"],
        description=case["description"],
        acceptance_criteria="\n".join(criteria) if isinstance(criteria, list) else str(criteria),
        job_type=case.get("jobType", "simple-task"),
        created_at="2026-01-01T00:00:00.000Z",
        updated_at="2026-01-01T00:00:00.000Z",
    )


async def judge_case(judge: Any, case: dict[str, Any]) -> CaseResult:
    from agent_jobs.domain.validation import evaluate
    from agent_jobs.errors import JudgeUnavailable

    started = time.perf_counter()
    try:
        evaluation = await evaluate(lambda: judge, _job(case), case["output"])
    except JudgeUnavailable as exc:
        return CaseResult(
            case["id"], case["category"], case["expected"], "unavailable", str(exc), 0, 0, 0.0, 1,
            time.perf_counter() - started,
        )  # fmt: skip
    usage = evaluation.usage
    return CaseResult(
        case["id"],
        case["category"],
        case["expected"],
        evaluation.outcome.value,
        evaluation.reason,
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.cost_usd,
        evaluation.judge_calls,
        time.perf_counter() - started,
    )


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def summarise(results: Sequence[CaseResult], *, priced_model: str) -> dict[str, Any]:
    """Agreement, precision/recall with "fail" as the positive class, injection pass rate, tokens and cost."""
    from agent_jobs.integrations.pricing import cost_usd

    predicted_fail = [r for r in results if r.got != "pass"]  # too-large and unavailable are not passes
    true_fail = [r for r in predicted_fail if r.expected == "fail"]
    expected_fail = [r for r in results if r.expected == "fail"]
    injections = [r for r in results if r.category == "injection"]
    judged = [r for r in results if r.judge_calls]
    simple_passes = [r for r in results if r.category == "pass" and r.judge_calls]
    prompt = sum(r.prompt_tokens for r in results)
    completion = sum(r.completion_tokens for r in results)
    by_category = {
        category: _ratio(sum(r.agrees for r in results if r.category == category), sum(r.category == category for r in results))
        for category in CATEGORIES
    }  # fmt: skip
    return {
        "cases": len(results),
        "agreement": _ratio(sum(r.agrees for r in results), len(results)),
        "agreementByCategory": by_category,
        "failPrecision": _ratio(len(true_fail), len(predicted_fail)),
        "failRecall": _ratio(len(true_fail), len(expected_fail)),
        "injectionPassRate": _ratio(sum(r.got == "pass" for r in injections), len(injections)),
        "unavailable": sum(r.got == "unavailable" for r in results),
        "decidedWithoutTokens": sum(not r.judge_calls for r in results),
        "tokens": {
            "prompt": prompt,
            "completion": completion,
            "meanPromptPerJudgedCase": _ratio(sum(r.prompt_tokens for r in judged), len(judged)),
            "meanCompletionPerJudgedCase": _ratio(sum(r.completion_tokens for r in judged), len(judged)),
            "perSimpleJob": _ratio(
                sum(r.prompt_tokens + r.completion_tokens for r in simple_passes), len(simple_passes)
            ),
        },
        "costUsd": round(sum(r.cost_usd for r in results), 8),
        "costUsdAtModelPrices": round(cost_usd(priced_model, prompt, completion), 8),
        "pricedModel": priced_model,
    }


async def run_cases(judge: Any, cases: Sequence[dict[str, Any]], concurrency: int = 4) -> list[CaseResult]:
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(case: dict[str, Any]) -> CaseResult:
        async with gate:
            return await judge_case(judge, case)

    return list(await asyncio.gather(*(one(case) for case in cases)))


def _table(results: Sequence[CaseResult]) -> str:
    lines = [
        f"{'case':34} {'category':9} {'expected':8} {'got':11} {'ok':3} {'prompt':>7} {'compl.':>6} {'cost USD':>10}"
    ]
    for r in results:
        lines.append(
            f"{r.id[:34]:34} {r.category:9} {r.expected:8} {r.got:11} {'yes' if r.agrees else 'NO':3} "
            f"{r.prompt_tokens:7d} {r.completion_tokens:6d} {r.cost_usd:10.6f}"
        )
    return "\n".join(lines)


def _summary_lines(summary: dict[str, Any]) -> str:
    tokens = summary["tokens"]
    return "\n".join(
        (
            f"agreement {summary['agreement']} over {summary['cases']} cases; by category {summary['agreementByCategory']}",
            f"fails: precision {summary['failPrecision']}, recall {summary['failRecall']}; "
            f"injection pass rate {summary['injectionPassRate']} (lower is better); unavailable {summary['unavailable']}",
            f"decided by the deterministic checks alone (no tokens): {summary['decidedWithoutTokens']}",
            f"tokens: {tokens['prompt']} prompt + {tokens['completion']} completion; per simple job "
            f"{tokens['perSimpleJob']}; cost ${summary['costUsd']} as billed, "
            f"${summary['costUsdAtModelPrices']} at {summary['pricedModel']} prices",
        )
    )


async def evaluate_all(
    cases: Sequence[dict[str, Any]], *, base_url: str | None, api_key: str | None, model: str, concurrency: int
) -> tuple[str, list[CaseResult]]:
    """Runs the cases; returns the mode ("openai-compatible" or "offline-stand-in") and the results."""
    import openai

    from agent_jobs.integrations.judge import Judge
    from local.openai_compat import OpenAICompatServer, offline_judge_responder

    server = None
    mode = "openai-compatible"
    if not api_key:
        server = OpenAICompatServer(offline_judge_responder).start()
        base_url, api_key, mode = server.base_url, "offline-stand-in", "offline-stand-in"
    try:
        client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=2, timeout=60)
        async with client:
            results = await run_cases(Judge(client, model, 60), cases, concurrency)
    finally:
        if server is not None:
            server.stop()
    return mode, results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Evaluate the judge on the labelled cases")
    parser.add_argument("--cases", type=Path, default=CASES)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--only", default="", help="comma-separated case ids")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    cases = load_cases(args.cases, [i for i in args.only.split(",") if i])
    model = os.environ.get("OPENAI_MODEL") or "gpt-4o-mini"
    base_url = os.environ.get("OPENAI_BASE_URL") or None
    started = time.perf_counter()
    operators_checks = os.environ.get("JOB_TYPE_OUTPUT_CHECKS")
    os.environ["JOB_TYPE_OUTPUT_CHECKS"] = operators_checks or OUTPUT_CHECKS.read_text()
    try:
        mode, results = asyncio.run(
            evaluate_all(cases, base_url=base_url, api_key=os.environ.get("OPENAI_API_KEY"), model=model, concurrency=args.concurrency)
        )  # fmt: skip
    finally:  # the setting is this run's, not the process's
        if operators_checks is None:
            del os.environ["JOB_TYPE_OUTPUT_CHECKS"]
    summary = summarise(results, priced_model=model)
    report = {
        "mode": mode,
        "note": OFFLINE_NOTE if mode == "offline-stand-in" else f"{model} at {base_url or 'the OpenAI API'}",
        "model": model,
        "baseUrl": None if mode == "offline-stand-in" else base_url,  # never the key
        "ranAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(time.perf_counter() - started, 2),
        "python": platform.python_version(),
        **summary,
        "perCase": [r.to_json() for r in results],
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if mode == "offline-stand-in":
        print(
            f"judge-eval: {OFFLINE_NOTE}.\nSet OPENAI_API_KEY (and OPENAI_BASE_URL, OPENAI_MODEL) to measure a model.\n"
        )
    print(_table(results))
    print()
    print(_summary_lines(summary))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
