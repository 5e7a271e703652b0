"""Cost per million jobs on AWS, from every billable request one job makes through its whole lifecycle.

Runs in-process on moto with the real handlers (``bench.inprocess``), a real agent server and the offline judge
stand-in, and counts with botocore hooks (``bench.meter``), a stdout counter (``bench.capture``) and the Step
Functions execution history. For each job type it creates ``--jobs`` jobs through the API (``agentId`` given,
so no auto-assign), lets the queues fill before each event-source-mapping poll (batches as they form under
load, up to 10), hands the jobs and checkpoints tables' stream records to the events function as its mapping
would, approves every checkpoint through the API, and reads each job once (``GET /api/jobs/{id}``).

Each job type with a load figure runs twice, in full batches and in batches of 1, so every "lane" (a function
and what invokes it) splits into a cost per invocation and a cost per record (``lanes``); ``bench.cost_at_load``
then prices the batches each monthly volume forms, and the fixed costs of the synthesized stack
(``bench.inventory``) spread over its jobs.

    python -m bench.cost --out cost.json [--jobs 50] [--cold-start cold_start.json] [--template AgentJobs.template.json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import capture
from bench.meter import Call, Meter

CAPTURED = capture.install()  # before agent_jobs is imported (Powertools binds sys.stdout)
METER = Meter().install()

from bench import cost_at_load, cost_model, inventory, load_model  # noqa: E402
from bench.egress import Egress  # noqa: E402
from bench.inprocess import Invocation, Platform, sqs_request_units  # noqa: E402

THREE_STEP = {"three-step": {"afterExecute": ["plan-review", "output-review"], "beforeCompletion": ["final-review"]}}
QUEUE_ORDER = ("execute-high", "execute", "validate", "checkpoint", "webhooks")
ROWS = [
    {"id": 1, "name": "  ada lovelace ", "email": "ADA@Example.com"},
    {"id": 2, "name": "alan turing", "email": " Alan.Turing@Example.com "},
    {"id": 3, "name": "grace hopper", "email": "grace@EXAMPLE.com"},
]


@dataclass(frozen=True)
class Scenario:
    name: str
    job_type: str
    agent_path: str  # example agent that serves it
    checkpoints: int
    batch: int = 10
    body: tuple[tuple[str, Any], ...] = ()

    def request(self, agent_id: str) -> dict[str, Any]:
        return {"jobType": self.job_type, "priority": 5, "agentId": agent_id, **dict(self.body)}


SIMPLE_BODY = (
    ("taskDescription", "Process user data"),
    ("acceptanceCriteria", "The user data is processed and the action is reported"),
    ("inputData", {"userId": "user-123", "action": "update-profile"}),
)
CODE_GENERATION_BODY = (
    ("taskDescription", "Generate authentication module"),
    ("acceptanceCriteria", "The files implement authentication"),
    (
        "inputData",
        {
            "description": "User authentication module",
            "files": [{"path": "lib/auth.ts", "content": "export function authenticate() { return true; }"}],
        },
    ),
)
SIMPLE = "simple"
ONE_CHECKPOINT = "1 checkpoint (code-generation)"
SCENARIOS = (
    Scenario(SIMPLE, "simple-task", "simple-task", 0, body=SIMPLE_BODY),
    Scenario("simple, batches of 1 (trickle load)", "simple-task", "simple-task", 0, batch=1, body=SIMPLE_BODY),
    Scenario(ONE_CHECKPOINT, "code-generation", "code-generation", 1, body=CODE_GENERATION_BODY),
    Scenario(
        "1 checkpoint, batches of 1 (trickle load)",
        "code-generation",
        "code-generation",
        1,
        batch=1,
        body=CODE_GENERATION_BODY,
    ),
    Scenario(
        "3 checkpoints (three-step)",
        "three-step",
        "data-processing",
        3,
        body=(
            ("taskDescription", "Normalise the customer rows"),
            ("acceptanceCriteria", "Every row is normalised; the plan lists the steps"),
            ("inputData", {"operation": "transform", "transform": "normalize", "data": ROWS}),
        ),
    ),
)
# the job types priced at 1M, 10M and 50M jobs a month: full batches, and batches of 1 for the per-batch costs
AT_LOAD = {SIMPLE: SCENARIOS[1].name, ONE_CHECKPOINT: SCENARIOS[3].name}


# --- driving jobs through the platform ---------------------------------------------------------------
class Driver:
    def __init__(self, platform: Platform) -> None:
        import boto3

        from agent_jobs.catalog import STREAMS
        from local.streams import StreamReader, streams_client

        self.p = platform
        self.sqs = METER.raw_client("sqs")
        self.ddb = METER.raw_client("dynamodb")
        self.sfn = METER.raw_client("stepfunctions")
        streams = streams_client(boto3.session.Session(region_name="us-east-1"), None)  # actor "bench": not billed
        self.streams = [(spec, StreamReader(self.ddb, streams, platform.env[spec.table.upper()])) for spec in STREAMS]

    def deliver_streams(self, batch: int) -> None:
        """Every new stream record to its consumer, as the stream's mapping hands them over: up to the
        mapping's batch size at a time (full batches), or one at a time (trickle)."""
        from local.lambda_runtime import handled_prefix, stream_event

        for spec, reader in self.streams:
            size = 1 if batch == 1 else spec.batch_size
            while records := reader.read(size):
                result = self.p.invoke(spec.consumer, stream_event(records), trigger=f"{spec.table} stream")
                handled = handled_prefix(records, result)
                assert handled == records, f"{spec.consumer} failed stream records: {result}"
                reader.advance(handled)
            reader.advance([])

    def depths(self) -> tuple[int, ...]:
        found = []
        for key in QUEUE_ORDER:
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=self.p.queue_url(key), AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
            found.append(int(attributes["ApproximateNumberOfMessages"]))
        return tuple(found)

    def settle(self, quiet: float = 0.3, longest: float = 3.0) -> tuple[int, ...]:
        """Waits until no queue grew for ``quiet`` seconds: the messages of a stage are all there."""
        started = stable_since = time.monotonic()
        last = self.depths()
        while time.monotonic() - started < longest:
            time.sleep(0.05)
            now = self.depths()
            if now != last:
                last, stable_since = now, time.monotonic()
            elif time.monotonic() - stable_since >= quiet:
                break
        return last

    def deliver_queues(self, depths: tuple[int, ...], batch: int) -> None:
        for key, depth in zip(QUEUE_ORDER, depths, strict=True):
            remaining = depth
            while remaining > 0:
                self.p.deliver(key, max_messages=batch)
                remaining = self.depths()[QUEUE_ORDER.index(key)]

    def statuses(self, ids: set[str]) -> dict[str, str]:
        table = self.p.env["JOBS_TABLE"]
        found: dict[str, str] = {}
        for page in self.ddb.get_paginator("scan").paginate(
            TableName=table, ProjectionExpression="id, #s", ExpressionAttributeNames={"#s": "status"}
        ):
            for item in page["Items"]:
                if item["id"]["S"] in ids:
                    found[item["id"]["S"]] = item["status"]["S"]
        return found

    def pending_checkpoints(self, ids: set[str]) -> list[str]:
        table = self.p.env["CHECKPOINTS_TABLE"]
        items = self.ddb.scan(TableName=table)["Items"]
        return [i["id"]["S"] for i in items if i["job_id"]["S"] in ids and i["status"]["S"] == "PENDING"]

    def run(self, ids: set[str], batch: int, timeout: float = 240.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            depths = self.settle()
            self.deliver_queues(depths, batch)
            self.deliver_streams(batch)
            for checkpoint_id in self.pending_checkpoints(ids):
                status, body = self.p.api("POST", f"/api/admin/agent-checkpoints/{checkpoint_id}", admin=True)
                assert status == 200, body
            statuses = self.statuses(ids)
            if all(statuses.get(i) == "COMPLETED" for i in ids):
                self.deliver_streams(batch)  # the last writes' records
                self.deliver_queues(self.settle(), batch)  # and whatever they queued (webhook deliveries)
                return
            failed = {s for s in statuses.values() if s in ("FAILED", "REJECTED", "RESUBMISSION_REQUIRED")}
            assert not failed, f"jobs ended {failed}"
        raise TimeoutError(f"jobs not COMPLETED after {timeout:.0f} s: {Counter(self.statuses(ids).values())}")

    def executions(self, ids: set[str]) -> list[tuple[str, list[dict[str, Any]]]]:
        """Every checkpoint wait's execution of these jobs (one per checkpoint: named job-attempt-stage), with its
        history."""
        arn = self.p.env["CHECKPOINT_STATE_MACHINE_ARN"]
        found = []
        for page in self.sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
            for execution in page["executions"]:
                if execution["name"].split("-", 1)[0] not in ids:
                    continue
                events = self.sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)
                found.append((execution["executionArn"], events["events"]))
        return found

    def storage(self, ids: set[str]) -> int:
        from bench import dynamo_units

        total = 0
        for setting, job_key in (("JOBS_TABLE", "id"), ("JOB_LOGS_TABLE", "job_id"), ("CHECKPOINTS_TABLE", "job_id")):
            table = self.p.env[setting]
            items = [
                item
                for page in self.ddb.get_paginator("scan").paginate(TableName=table)
                for item in page["Items"]
                if item[job_key]["S"] in ids
            ]
            total += dynamo_units.storage_bytes(METER.schema(table), items)
        return total


def create_jobs(platform: Platform, scenario: Scenario, agent_id: str, count: int) -> set[str]:
    ids = set()
    for _ in range(count):
        status, body = platform.api("POST", "/api/jobs", scenario.request(agent_id))
        assert status == 201, body
        ids.add(body["job"]["id"])
    return ids


# --- from measurements to usage per job -----------------------------------------------------------------
def sqs_requests(calls: list[Call]) -> dict[str, float]:
    counted: dict[str, float] = defaultdict(float)
    for call in calls:
        if call.service != "sqs":
            continue
        if call.operation == "ReceiveMessage" and not call.response.get("Messages"):
            continue  # empty polls: priced by the load model, not here
        who = "stepfunctions" if call.actor == "stepfunctions" else ("esm" if call.actor == "esm" else "functions")
        counted[f"{call.operation} ({who})"] += sqs_request_units(call)
    return dict(counted)


def billed(inv: Invocation, agent_seconds: float, judge_seconds: float) -> tuple[float, float, float]:
    """(billed seconds, of which waiting for the agent or the judge, modelled AWS I/O) of one invocation on
    Lambda: its own CPU slowed to the function's share of a vCPU, the AWS round trips it waited for (a
    concurrent batch's overlap), and the agent's or judge's answer time."""
    from agent_jobs.catalog import FUNCTIONS

    memory = FUNCTIONS[inv.function].memory_mb
    io = sum(cost_model.latency_of(kind) * count for kind, count in inv.calls.items())
    if inv.function in cost_model.CONCURRENT_BATCH_FUNCTIONS and inv.records > 1:
        io /= inv.records
    wait = 0.0
    if inv.function == "execute_job" and "execute" in inv.kinds:
        wait += agent_seconds
    if inv.function == "validate" and {"validate", "assign"} & set(inv.kinds):
        wait += judge_seconds
    own = inv.cpu_seconds * cost_model.cpu_scale(memory)
    return math.ceil((own + io + wait) * 1000) / 1000, wait, io


def trigger_name(inv: Invocation) -> str:
    if inv.trigger == "api":
        return "API"
    return inv.trigger if inv.trigger.endswith((" stream", "schedule")) else f"{inv.trigger} queue"


def lambda_usage(
    invocations: list[Invocation], init_seconds: dict[str, float], agent_seconds: float, judge_seconds: float
) -> dict[str, Any]:
    from agent_jobs.catalog import FUNCTIONS

    per_function: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for inv in invocations:
        gb = FUNCTIONS[inv.function].memory_mb / 1024
        seconds, wait, io = billed(inv, agent_seconds, judge_seconds)
        stats = per_function[f"{inv.function} ({trigger_name(inv)})"]
        stats["invocations"] += 1
        stats["records"] += inv.records
        stats["cpuSecondsHere"] += inv.cpu_seconds
        stats["awsCpuSecondsHere"] += inv.aws_cpu_seconds
        stats["wallSecondsHere"] += inv.wall_seconds
        stats["ioSecondsModelled"] += io
        stats["failedRecords"] += inv.failures
        stats["billedSeconds"] += seconds
        stats["gbSeconds"] += seconds * gb
        stats["waitGbSeconds"] += wait * gb
        stats["measuredGbSeconds"] += (inv.cpu_seconds + inv.aws_cpu_seconds + wait) * gb
        stats["initGbSeconds"] += cost_model.COLD_START_FRACTION * init_seconds.get(inv.function, 1.0) * gb
    return {fn: dict(stats) for fn, stats in per_function.items()}


# --- lanes: a function and what invokes it, per invocation and per record --------------------------------
def components(inv: Invocation, agent_seconds: float, judge_seconds: float) -> dict[str, float]:
    return {
        "seconds": billed(inv, agent_seconds, judge_seconds)[0],
        "wru": inv.wru,
        "rru": inv.rru,
        "sqsRequests": inv.sqs_requests,
        "eventBridgeEntries": inv.event_bridge_entries,
        "logBytes": inv.log_bytes,
        "emfBytes": inv.emf_bytes,
    }


def _mean_invocation(
    runs: list[Invocation], agent_seconds: float, judge_seconds: float
) -> tuple[float, dict[str, float]]:
    values = [components(inv, agent_seconds, judge_seconds) for inv in runs]
    mean = {name: sum(v[name] for v in values) / len(values) for name in cost_at_load.COMPONENTS}
    return sum(inv.records for inv in runs) / len(runs), mean


def lanes(
    measured: list[Invocation], paired: list[Invocation], jobs: int, agent_seconds: float, judge_seconds: float
) -> list[dict[str, Any]]:
    """Every lane of a job type: records per job from ``measured`` (full batches), the split of each cost
    into per invocation and per record by the line through the two runs' mean invocations (``paired``: the
    same jobs in batches of 1)."""
    from agent_jobs.catalog import FUNCTIONS

    groups: dict[tuple[str, str], list[Invocation]] = defaultdict(list)
    for inv in measured + paired:
        groups[(inv.function, inv.trigger)].append(inv)
    found = []
    for (function, trigger), group in groups.items():
        main = [inv for inv in measured if (inv.function, inv.trigger) == (function, trigger)]
        if not main:
            continue
        pair = [inv for inv in paired if (inv.function, inv.trigger) == (function, trigger)]
        # the two operating points (mean records and mean cost per invocation, full batches and batches of 1):
        # the line through them is exact at both, whatever caching inside a batch does in between
        operating = [_mean_invocation(runs, agent_seconds, judge_seconds) for runs in (main, pair) if runs]
        waits = [billed(inv, agent_seconds, judge_seconds)[1] for inv in group]
        per_batch, per_record = {}, {}
        for name in cost_at_load.COMPONENTS:
            fallback = sum(waits) / len(waits) if name == "seconds" else 0.0
            points = [(x, v[name]) for x, v in operating]
            (full_x, full_y), *_ = points
            if name in cost_at_load.PER_RECORD_ONLY and full_x:
                per_batch[name], per_record[name] = 0.0, full_y / full_x
            else:
                per_batch[name], per_record[name] = cost_at_load.fit(points, fallback)
        records = sum(inv.records for inv in main) if trigger != "api" else len(main)
        found.append(
            {
                "function": function,
                "trigger": trigger,
                "memoryMb": FUNCTIONS[function].memory_mb,
                "recordsPerJob": records / jobs,
                "measuredInvocationsPerJob": len(main) / jobs,
                "batchSizesSeen": sorted({inv.records for inv in group}),
                "perBatch": {k: round(v, 6) for k, v in per_batch.items()},
                "perRecord": {k: round(v, 6) for k, v in per_record.items()},
            }
        )
    return found


def measure(
    platform: Platform,
    driver: Driver,
    egress: Egress,
    scenario: Scenario,
    agent_id: str,
    count: int,
    options: argparse.Namespace,
    init_seconds: dict[str, float],
) -> tuple[dict[str, Any], list[Invocation]]:
    from agent_jobs.catalog import FUNCTIONS

    call_mark, invocation_mark = METER.snapshot(), len(platform.invocations)
    CAPTURED.reset()
    egress.reset()
    started = time.monotonic()
    ids = create_jobs(platform, scenario, agent_id, count)
    driver.run(ids, scenario.batch)
    for job_id in ids:  # the owner reads the result once
        status, body = platform.api("GET", f"/api/jobs/{job_id}")
        assert status == 200 and body["job"]["status"] == "COMPLETED", body
    seconds = time.monotonic() - started
    calls = [c for c in METER.since(call_mark) if c.actor != "bench"]
    invocations = platform.invocations[invocation_mark:]
    captured = CAPTURED.totals()
    executions = driver.executions(ids)

    functions = lambda_usage(invocations, init_seconds, options.agent_seconds, options.judge_seconds)
    n = float(count)
    api_requests = sum(1 for inv in invocations if inv.trigger == "api")
    sqs = sqs_requests(calls)
    ddb_calls = [c for c in calls if c.service == "dynamodb"]
    by_operation: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for call in ddb_calls:
        entry = by_operation[f"{call.actor}: {call.operation}"]
        entry["calls"] += 1 / n
        entry["wru"] += call.wru / n
        entry["rru"] += call.rru / n
    transitions = sum(1 for _, events in executions for e in events if e["type"].endswith("StateEntered"))
    sfn_log_bytes = sum(
        len(cost_model.step_functions_log_line(e, arn).encode()) + 1 for arn, events in executions for e in events
    )
    platform_line_bytes = sum(len(line.encode()) + 1 for line in cost_model.LAMBDA_PLATFORM_LINES)
    emf = {who: s for who, s in captured["emf"].items() if who in FUNCTIONS}
    logs = {who: s for who, s in captured["logs"].items() if who in FUNCTIONS}
    total_invocations = sum(f["invocations"] for f in functions.values())
    traced_invocations = sum(1 for inv in invocations if FUNCTIONS[inv.function].traced)
    usage: dict[str, Any] = {
        "jobs": count,
        "seconds": round(seconds, 2),
        "failedRecords": sum(inv.failures for inv in invocations),  # retried by the queue; 0 expected
        "apiRequests": api_requests / n,
        "lambda": {
            "invocations": total_invocations / n,
            "gbSeconds": sum(f["gbSeconds"] for f in functions.values()) / n,
            "waitGbSeconds": sum(f["waitGbSeconds"] for f in functions.values()) / n,
            "measuredGbSeconds": sum(f["measuredGbSeconds"] for f in functions.values()) / n,
            "initGbSeconds": sum(f["initGbSeconds"] for f in functions.values()) / n,
            "handlerCpuMs": round(sum(inv.cpu_seconds for inv in invocations) / n * 1000, 2),
            "handlerCpuMsByFunction": {
                fn: round(sum(inv.cpu_seconds for inv in invocations if inv.function == fn) / n * 1000, 2)
                for fn in sorted({inv.function for inv in invocations})
            },
            "byFunction": {
                fn: {key: value / n for key, value in stats.items()}
                | {"batchSize": stats["records"] / stats["invocations"]}
                for fn, stats in functions.items()
            },
        },
        "dynamodb": {
            "wru": sum(c.wru for c in ddb_calls) / n,
            "indexWru": sum(float(c.detail.get("indexWru", 0)) for c in ddb_calls) / n,
            "rru": sum(c.rru for c in ddb_calls) / n,
            "requests": len(ddb_calls) / n,
            "byOperation": {k: dict(v) for k, v in sorted(by_operation.items(), key=lambda kv: -kv[1]["wru"])},
            "storageBytes": driver.storage(ids) / n,
        },
        "sqs": {"requests": sum(sqs.values()) / n, "byOperation": {k: v / n for k, v in sqs.items()}},
        "eventBridgeEntries": sum(inv.event_bridge_entries for inv in invocations) / n,
        "stepFunctions": {"executions": len(executions) / n, "transitions": transitions / n},
        "logs": {
            "appLines": sum(s["lines"] for s in logs.values()) / n,
            "appBytes": sum(s["bytes"] for s in logs.values()) / n,
            "emfLines": sum(s["lines"] for s in emf.values()) / n,
            "emfBytes": sum(s["bytes"] for s in emf.values()) / n,
            "platformBytes": total_invocations * platform_line_bytes / n,
            "accessLogBytes": api_requests * (len(cost_model.API_ACCESS_LOG_LINE) + 1) / n,
            "stepFunctionsBytes": sfn_log_bytes / n,
            "byFunction": {
                fn: {"logLines": logs.get(fn, {}).get("lines", 0) / n, "emfLines": emf.get(fn, {}).get("lines", 0) / n}
                for fn in sorted(set(logs) | set(emf))
            },
        },
        "xrayTraces": (traced_invocations + len(executions)) * cost_model.XRAY_SAMPLED_FRACTION / n,
        "secretsManagerCalls": cost_model.VALIDATE_CONTAINERS
        / (cost_model.SECRET_CACHE_SECONDS * cost_model.ASSUMED_LOAD_JOBS_PER_SECOND),
        "egressBytes": egress.bytes / n,
    }
    lines = cost_model.bill(usage)
    result = {
        "scenario": asdict(scenario) | {"body": dict(scenario.body)},
        "usagePerJob": usage,
        "costPerMillionJobsUsd": {
            "total": round(sum(line.usd_per_million_jobs for line in lines), 3),
            "byService": {k: round(v, 3) for k, v in cost_model.by_service(lines).items()},
            "lines": [asdict(line) | {"usd_per_million_jobs": round(line.usd_per_million_jobs, 4)} for line in lines],
        },
        "storagePerMillionJobsUsdPerMonth": round(
            cost_model.storage_per_million_jobs_month(usage["dynamodb"]["storageBytes"]), 3
        ),
        "samples": {
            "emf": next((s["samples"][0] for s in emf.values() if s["samples"]), None),
            "log": next((s["samples"][0] for s in logs.values() if s["samples"]), None),
        },
    }
    return result, invocations


def profile_of(
    result: dict[str, Any], measured: list[Invocation], paired: list[Invocation], options: argparse.Namespace
) -> dict[str, Any]:
    """What ``cost_at_load`` needs of a job type, as JSON (kept in results.json)."""
    usage = result["usagePerJob"]
    outside = sum(v for k, v in usage["sqs"]["byOperation"].items() if k.endswith("(stepfunctions)"))
    return {
        "lanes": lanes(measured, paired, usage["jobs"], options.agent_seconds, options.judge_seconds),
        "sqsRequestsOutsideFunctions": outside,
        "stepFunctionsExecutions": usage["stepFunctions"]["executions"],
        "stepFunctionsTransitions": usage["stepFunctions"]["transitions"],
        "stepFunctionsLogBytes": usage["logs"]["stepFunctionsBytes"],
        "egressBytes": usage["egressBytes"],
    }


def profile_from(data: dict[str, Any], init_seconds: dict[str, float]) -> cost_at_load.Profile:
    return cost_at_load.Profile(
        lanes=tuple(cost_at_load.Lane.from_dict(lane) for lane in data["lanes"]),
        sqs_requests_outside_functions=data["sqsRequestsOutsideFunctions"],
        step_functions_executions=data["stepFunctionsExecutions"],
        step_functions_transitions=data["stepFunctionsTransitions"],
        step_functions_log_bytes=data["stepFunctionsLogBytes"],
        egress_bytes=data["egressBytes"],
        init_seconds=init_seconds,
    )


def measure_schedule(platform: Platform, options: argparse.Namespace, runs: int = 3) -> dict[str, float]:
    """One scheduled run of the metrics function (sweeper + gauges) on the tables the scenarios left."""
    from agent_jobs.catalog import FUNCTIONS
    from local.scheduler import scheduled_event

    mark = len(platform.invocations)
    for _ in range(runs):
        platform.invoke("metrics", scheduled_event("us-east-1"), trigger="schedule")
    done = platform.invocations[mark:]
    gb = FUNCTIONS["metrics"].memory_mb / 1024
    platform_line_bytes = sum(len(line.encode()) + 1 for line in cost_model.LAMBDA_PLATFORM_LINES)
    return {
        "invocations": 1.0,
        "gbSeconds": sum(billed(inv, options.agent_seconds, options.judge_seconds)[0] for inv in done) * gb / runs,
        "handlerCpuMs": sum(inv.cpu_seconds for inv in done) * 1000 / runs,
        "wru": sum(inv.wru for inv in done) / runs,
        "rru": sum(inv.rru for inv in done) / runs,
        "sqsRequests": sum(inv.sqs_requests for inv in done) / runs,
        "logBytes": sum(inv.log_bytes + inv.emf_bytes for inv in done) / runs + platform_line_bytes,
    }


def register_agents(platform: Platform, agents: Any) -> dict[str, str]:
    from examples.agents.definitions import AGENTS_BY_TYPE

    ids = {}
    for scenario in SCENARIOS:
        agent = AGENTS_BY_TYPE[scenario.agent_path]
        body = agent.registration(agents.endpoint(agent.job_type), agents.secret(agent.job_type))
        body |= {"name": f"{scenario.job_type} agent", "jobTypes": [scenario.job_type]}
        if scenario.job_type in ids:
            continue
        status, answer = platform.api("POST", "/api/admin/agents", body, admin=True)
        assert status == 201, answer
        ids[scenario.job_type] = answer["agent"]["id"]
    return ids


def init_seconds_from(path: Path | None) -> dict[str, float]:
    if path is None or not path.exists():
        return {}
    data = json.loads(path.read_text())
    return {fn: float(entry["medianSeconds"]) for fn, entry in data.get("handlers", {}).items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--checkpoint-jobs", type=int, default=20, help="jobs of each checkpoint scenario")
    parser.add_argument("--trickle-jobs", type=int, default=10, help="jobs of each batches-of-1 scenario")
    parser.add_argument("--agent-seconds", type=float, default=1.0, help="modelled agent latency")
    parser.add_argument("--judge-seconds", type=float, default=1.0, help="modelled judge latency")
    parser.add_argument("--cold-start", type=Path, help="bench.cold_start result (INIT durations)")
    parser.add_argument("--template", type=Path, help="a synthesized template (default: synthesize infra/ now)")
    parser.add_argument("--only", help="run only the scenarios whose name contains this text")
    options = parser.parse_args(argv)
    scenarios = [s for s in SCENARIOS if not options.only or options.only in s.name]

    from bench.servers import judge_server
    from examples.agents.server import AgentServer, new_secrets

    print("cost: synthesizing the stack (fixed costs)", file=sys.stderr, flush=True)
    stack = inventory.load(options.template)
    init_seconds = init_seconds_from(options.cold_start)
    egress = Egress().install()
    judge = judge_server().start()
    agents = AgentServer(new_secrets(), port=0).start()
    settings = {"OPENAI_BASE_URL": judge.base_url, "JOB_TYPE_CHECKPOINTS": json.dumps(THREE_STEP)}
    results: dict[str, Any] = {}
    measured: dict[str, list[Invocation]] = {}
    try:
        with Platform(settings, meter=METER) as platform:
            driver = Driver(platform)
            agent_ids = register_agents(platform, agents)
            for scenario in scenarios:  # warm-up: every code path once, not measured
                driver.run(create_jobs(platform, scenario, agent_ids[scenario.job_type], 1), scenario.batch)
            for scenario in scenarios:
                count = options.jobs
                if scenario.batch == 1:
                    count = options.trickle_jobs
                elif scenario.checkpoints:
                    count = options.checkpoint_jobs
                print(f"cost: {scenario.name}: {count} jobs", file=sys.stderr, flush=True)
                results[scenario.name], measured[scenario.name] = measure(
                    platform, driver, egress, scenario, agent_ids[scenario.job_type], count, options, init_seconds
                )
            schedule_run = measure_schedule(platform, options)
            metric_series = len(CAPTURED.metric_series)
    finally:
        judge.stop()
        agents.stop()
    fixed = cost_at_load.Fixed(metric_series=metric_series, schedule_run=schedule_run)
    at_load: dict[str, Any] = {}
    for name, paired in AT_LOAD.items():
        if name not in results or paired not in results:
            continue
        profile = profile_of(results[name], measured[name], measured[paired], options)
        results[name]["profile"] = profile
        at_load[name] = {
            f"{jobs // 1_000_000}M": cost_at_load.cost_at_load(
                profile_from(profile, init_seconds), jobs, stack, fixed
            ).as_dict()
            for jobs in load_model.LOADS_JOBS_PER_MONTH
        }
    simple = results.get(SIMPLE)
    output = {
        "costPerMillionSimpleJobsUsd": simple["costPerMillionJobsUsd"]["total"] if simple else None,
        "costPerMillionSimpleJobsAt10MPerMonthUsd": _total(at_load, SIMPLE, "10M"),
        "costPerMillionCheckpointJobsAt10MPerMonthUsd": _total(at_load, ONE_CHECKPOINT, "10M"),
        "handlerCpuMsPerSimpleJob": simple["usagePerJob"]["lambda"]["handlerCpuMs"] if simple else None,
        "costAtLoad": at_load,
        "scenarios": results,
        "fixedMonthly": {
            "customMetricSeries": metric_series,
            "customMetricsUsdPerMonth": round(metric_series * cost_model.price("cloudwatchCustomMetricPerMonth"), 2),
            "metricNames": sorted({name for name, _ in CAPTURED.metric_series}),
            "scheduleRun": {k: round(v, 5) for k, v in schedule_run.items()},
            "inventory": asdict(stack),
        },
        "assumptions": {
            "agentSeconds": options.agent_seconds,
            "judgeSeconds": options.judge_seconds,
            "lambdaFullVcpuMb": cost_model.LAMBDA_FULL_VCPU_MB,
            "awsLatencySeconds": cost_model.AWS_LATENCY_SECONDS,
            "coldStartFraction": cost_model.COLD_START_FRACTION,
            "initSeconds": init_seconds,
            "xraySampledFractionAtFullBatches": cost_model.XRAY_SAMPLED_FRACTION,
            "xrayDefaultRule": {
                "reservoirPerSecondPerFunction": load_model.XRAY_RESERVOIR_PER_SECOND,
                "fixedRate": load_model.XRAY_FIXED_RATE,
            },
            "sqsPollersPerMapping": load_model.SQS_POLLERS,
            "sqsLongPollSeconds": load_model.SQS_LONG_POLL_SECONDS,
            "streamShards": load_model.STREAM_SHARDS,
            "streamPollSeconds": load_model.STREAM_POLL_SECONDS,
            "secondsPerMonth": load_model.SECONDS_PER_MONTH,
        },
        "prices": cost_model.prices(),
    }
    options.out.write_text(json.dumps(output, indent=2))
    return 0


def _total(at_load: dict[str, Any], scenario: str, load: str) -> float | None:
    found = at_load.get(scenario, {}).get(load)
    return found["totalUsdPerMillionJobs"] if found else None


if __name__ == "__main__":
    sys.exit(main())
