"""The benchmarks' results as one table (terminal) and a summary (results.json)."""

from __future__ import annotations

from typing import Any

SIMPLE = "simple"
TRICKLE = "simple, batches of 1 (trickle load)"
ONE_CHECKPOINT = "1 checkpoint (code-generation)"
THREE_CHECKPOINTS = "3 checkpoints (three-step)"
HEADLINE_KEYS = (
    "costPerMillionSimpleJobsUsd",
    "costPerMillionSimpleJobsAt10MPerMonthUsd",
    "costPerMillionCheckpointJobsAt10MPerMonthUsd",
    "handlerCpuMsPerSimpleJob",
)


def _usd(value: float | None) -> str:
    return "—" if value is None else f"${value:,.2f}"


def _mark(ok: bool | None) -> str:
    return {True: "yes", False: "NO", None: ""}[ok]


def batch_overheads(cost: dict[str, Any]) -> tuple[float | None, float | None]:
    """Modelled handler time per execute and validate batch (billed time less the agent/judge wait)."""
    try:
        functions = cost["scenarios"][SIMPLE]["usagePerJob"]["lambda"]["byFunction"]
        agent, judge = cost["assumptions"]["agentSeconds"], cost["assumptions"]["judgeSeconds"]
        execute = functions["execute_job (execute queue)"]
        validate = functions["validate (validate queue)"]
    except (KeyError, TypeError):
        return None, None
    return (
        execute["billedSeconds"] / execute["invocations"] - agent,
        validate["billedSeconds"] / validate["invocations"] - judge,
    )


def headline(sections: dict[str, Any]) -> dict[str, Any]:
    """The top-level figures of results.json, from the sections (a partial run: the merged ones)."""
    cost = sections.get("cost", {})
    found: dict[str, Any] = {key: cost.get(key) for key in HEADLINE_KEYS}
    found["coldStartWorstRatio"] = sections.get("cold_start", {}).get("worstRatio")
    found["costAtLoad"] = cost.get("costAtLoad")
    return found


def without_cost_at_load(name: str, section: dict[str, Any]) -> dict[str, Any]:
    """The cost section without ``costAtLoad`` (results.json carries it once, at the top)."""
    if name != "cost" or "costAtLoad" not in section:
        return section
    return {key: value for key, value in section.items() if key != "costAtLoad"}


def largest_terms(scenario: dict[str, Any], top: int = 3) -> list[dict[str, Any]]:
    lines = sorted(scenario["costPerMillionJobsUsd"]["lines"], key=lambda line: -line["usd_per_million_jobs"])
    return [
        {"term": line["key"], "usdPerMillionJobs": line["usd_per_million_jobs"], "basis": line["basis"]}
        for line in lines[:top]
    ]


def summary(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def row(figure: str, value: str, target: str = "", ok: bool | None = None) -> None:
        rows.append({"figure": figure, "value": value, "target": target, "withinTarget": ok})

    cost = results.get("cost", {})
    scenarios = cost.get("scenarios", {})
    for name, label in (
        (SIMPLE, "cost / 1M simple jobs (batches form, up to 10)"),
        (TRICKLE, "cost / 1M simple jobs at trickle load (batches of 1)"),
        (ONE_CHECKPOINT, "cost / 1M jobs with 1 checkpoint (code-generation)"),
        (THREE_CHECKPOINTS, "cost / 1M jobs with 3 checkpoints (three-step)"),
    ):
        if name in scenarios:
            total = scenarios[name]["costPerMillionJobsUsd"]["total"]
            services = scenarios[name]["costPerMillionJobsUsd"]["byService"]
            top = ", ".join(f"{k} {_usd(v)}" for k, v in list(services.items())[:3])
            is_simple = name == SIMPLE
            row(label, f"{_usd(total)} ({top})", "≤ $8" if is_simple else "", total <= 8 if is_simple else None)
    if SIMPLE in scenarios:
        (first, *_rest) = largest_terms(scenarios[SIMPLE], 1)
        row(
            "largest cost term per simple job",
            f"{first['term']} {_usd(first['usdPerMillionJobs'])}/1M: {first['basis']}",
        )
    for name, label, target in (
        (SIMPLE, "simple jobs", 8.0),
        (ONE_CHECKPOINT, "1-checkpoint jobs", 45.0),
    ):
        loads = (cost.get("costAtLoad") or {}).get(name)
        if not loads:
            continue
        totals = ", ".join(f"{load} {_usd(found['totalUsdPerMillionJobs'])}" for load, found in loads.items())
        ten = loads.get("10M", {})
        top = ", ".join(f"{t['key']} {_usd(t['usd_per_million_jobs'])}" for t in ten.get("terms", [])[:3])
        total = ten.get("totalUsdPerMillionJobs")
        row(
            f"cost / 1M {label} at 1M, 10M, 50M jobs a month (all in)",
            f"{totals} (at 10M: {top})",
            f"≤ ${target:g} at 10M",
            None if total is None else total <= target,
        )
    if cost.get("handlerCpuMsPerSimpleJob") is not None:
        by_function = cost["scenarios"][SIMPLE]["usagePerJob"]["lambda"]["handlerCpuMsByFunction"]
        row(
            "handlers' own CPU per simple job (in-process, AWS calls excluded)",
            f"{cost['handlerCpuMsPerSimpleJob']} ms ("
            + ", ".join(f"{fn} {ms}" for fn, ms in sorted(by_function.items(), key=lambda kv: -kv[1]))
            + ")",
            "≤ 20 ms",
            cost["handlerCpuMsPerSimpleJob"] <= 20,
        )
    if "error" in cost:
        row("cost", f"failed: {cost['error']}")

    latency = results.get("latency", {})
    if "latency" in latency:
        given = latency["latency"]["agentIdGiven"]
        auto = latency["latency"]["autoAssign"]
        p50 = given["clientSeconds"]["p50"]
        row(
            "latency create→COMPLETED, local stack (p50 / p90)",
            f"{p50} / {given['clientSeconds']['p90']} s client; {given['serverSeconds']['p50']} / "
            f"{given['serverSeconds']['p90']} s job timestamps; auto-assign {auto['clientSeconds']['p50']} s",
            "p50 ≤ 1 s",
            p50 <= latency["latencyTargetSeconds"],
        )
        throughput = latency["throughput"]
        where = throughput["whereTheTimeWent"]["cpuMsPerCompletedJob"]
        row(
            f"throughput, local stack, {throughput['windowSeconds']:.0f} s",
            f"{throughput['jobsPerSecond']} jobs/s (per 10 s: {throughput['jobsPerSecondEvery10s']}); CPU ms/job: "
            f"moto {where['motoServer']}, handlers {where['handlers']}, gateway+pollers {where['gatewayPollersAndRest']}",
            "≥ 10 jobs/s",
            throughput["jobsPerSecond"] >= latency["throughputTarget"],
        )
    elif "error" in latency:
        row("latency / throughput", f"failed: {latency['error']}")

    slow = results.get("slow_agents", {})
    if "executeBatch" in slow:
        execute = slow["executeBatch"]
        row(
            f"batch of 10, {slow['agentSeconds']:g} s agent, one execute_job invocation",
            f"{execute['invocationSeconds']} s ({execute['agentCalls']} calls started within "
            f"{execute['agentCallsStartedWithinSeconds']} s); validate batch with a {slow['judgeSeconds']:g} s judge: "
            f"{slow['validateBatch']['invocationSeconds']} s",
            "≤ 1.5 s",
            slow["withinTarget"],
        )

    priority = results.get("priority", {})
    if "priorityPickupSeconds" in priority:
        normal = priority["normalPickupSeconds"]
        row(
            f"priority-9 pickup behind {priority['backlog']} normal jobs ({priority['agentSeconds']:g} s agent)",
            f"{priority['priorityPickupSeconds']} s (normal jobs: p50 {normal['p50']} s, last {normal['last']} s)",
        )

    cold = results.get("cold_start", {})
    if "handlers" in cold:
        ratios = ", ".join(f"{name} {h['ratioToBoto3']}x" for name, h in cold["handlers"].items())
        row(
            "cold start: handler import / import boto3 (median of runs)",
            f"{ratios} (boto3 {cold['boto3']['medianSeconds']} s)",
            f"≤ {cold['targetRatio']}x",
            cold["worstRatio"] <= cold["targetRatio"],
        )

    baseline = results.get("baseline", {})
    if "rates" in baseline:
        capacity = baseline["capacityJobsPerSecond"]
        at = next((r for r in baseline["rates"] if r["arrivalsPerSecond"] == 1.0), baseline["rates"][0])
        row(
            "seeds' worker vs ours (simulated, 1 s agent + 1 s judge)",
            f"capacity {capacity['seeds']} vs {capacity['ours']} jobs/s; at {at['arrivalsPerSecond']:g} job/s pickup "
            f"p50 {at['seeds']['pickupSeconds']['p50']} s vs {at['ours']['pickupSeconds']['p50']} s",
        )
    for name, result in results.items():
        if "error" in result and name not in ("cost", "latency"):
            row(name, f"failed: {result['error']}")
    return rows


def table(output: dict[str, Any]) -> str:
    rows = output.get("summary", [])
    width = max((len(r["figure"]) for r in rows), default=10)
    lines = [f"{'figure'.ljust(width)}  {'target'.ljust(12)} ok   value", "-" * (width + 80)]
    for r in rows:
        lines.append(
            f"{r['figure'].ljust(width)}  {r['target'].ljust(12)} {_mark(r['withinTarget']).ljust(4)} {r['value']}"
        )
    cost = output.get("sections", {}).get("cost", {})
    for name, scenario in cost.get("scenarios", {}).items():
        lines.append(f"\ncost per million jobs, {name}: {_usd(scenario['costPerMillionJobsUsd']['total'])}")
        for line in sorted(scenario["costPerMillionJobsUsd"]["lines"], key=lambda x: -x["usd_per_million_jobs"]):
            if line["usd_per_million_jobs"] >= 0.005:
                lines.append(
                    f"  {line['service']:<16} {line['key']:<20} {_usd(line['usd_per_million_jobs']):>10}  {line['basis']}"
                )
    for name, loads in (output.get("costAtLoad") or {}).items():
        for load, found in loads.items():
            lines.append(
                f"\ncost per million jobs, {name}, at {load} jobs a month: {_usd(found['totalUsdPerMillionJobs'])} "
                f"(fixed: {_usd(found['fixedUsdPerMonth'])} a month)"
            )
            for term in found["terms"]:
                if term["usd_per_million_jobs"] >= 0.05:
                    lines.append(
                        f"  {term['service']:<16} {term['key']:<20} {_usd(term['usd_per_million_jobs']):>10}  "
                        f"{term['kind']:<6}  {term['basis']}"
                    )
    machine = output.get("machine", {})
    lines.append(
        f"\nmachine: {machine.get('nproc')} x {machine.get('cpu')}, Python {machine.get('python')}, "
        f"load average {machine.get('loadAverageAtStart')} → {machine.get('loadAverageAtEnd')}"
    )
    return "\n".join(lines)
