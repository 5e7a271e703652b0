"""The cost per million jobs at a monthly volume: the measured profile of a job type (what each Lambda
"lane" costs per batch and per record, what a job costs outside Lambda), the batch sizes that volume forms
(``load_model``), X-Ray as the default rule samples it, and every fixed monthly cost of the stack
(``inventory``) spread over the month's jobs.

Pure arithmetic over plain data: ``bench.cost`` measures the profile, the unit tests feed made-up ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from bench import cost_model, load_model
from bench.inventory import Inventory

COMPONENTS = ("seconds", "wru", "rru", "sqsRequests", "eventBridgeEntries", "logBytes", "emfBytes")
PER_RECORD_ONLY = frozenset({"eventBridgeEntries"})  # one event per job event, however the records are batched
GB = 1024**3
KMS_REFRESHES_PER_TABLE_HOUR = 12  # DynamoDB re-reads a table's key from KMS about every 5 minutes (assumed)


@dataclass(frozen=True)
class Lane:
    """One way a function is invoked for a job type: by the API, by one queue, or by a table's stream."""

    function: str
    trigger: str  # "api", a queue key, or "<table setting> stream"
    memory_mb: int
    records_per_job: float  # API lanes: requests per job
    per_batch: dict[str, float]  # COMPONENTS per invocation
    per_record: dict[str, float]  # COMPONENTS per record

    @property
    def kind(self) -> str:
        if self.trigger == "api":
            return "api"
        return "stream" if self.trigger.endswith(" stream") else "sqs"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Lane:
        return cls(
            data["function"],
            data["trigger"],
            int(data["memoryMb"]),
            float(data["recordsPerJob"]),
            dict(data["perBatch"]),
            dict(data["perRecord"]),
        )


@dataclass(frozen=True)
class Profile:
    """A job type as measured: its lanes and what a job costs outside them."""

    lanes: tuple[Lane, ...]
    sqs_requests_outside_functions: float = 0.0  # Step Functions' sends
    step_functions_executions: float = 0.0
    step_functions_transitions: float = 0.0
    step_functions_log_bytes: float = 0.0
    egress_bytes: float = 0.0
    init_seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Fixed:
    """What the stack bills every month, whatever the traffic (besides the pollers, which depend on it)."""

    metric_series: int
    schedule_run: dict[str, float]  # one scheduled run: invocations, gbSeconds, wru, rru, sqsRequests, logBytes


@dataclass
class Term:
    key: str
    service: str
    kind: str  # "perJob" (scales with jobs) or "fixed" (a monthly amount spread over the jobs)
    usd_per_million_jobs: float
    basis: str
    usd_per_month: float = 0.0


@dataclass
class LaneAtLoad:
    lane: str
    records_per_second: float
    batches_per_second: float
    mean_batch: float
    empty_receives_per_second: float
    busy_invocations: float


@dataclass
class CostAtLoad:
    jobs_per_month: float
    terms: list[Term]
    lanes: list[LaneAtLoad]

    @property
    def total(self) -> float:
        return sum(term.usd_per_million_jobs for term in self.terms)

    def as_dict(self) -> dict[str, Any]:
        terms = sorted(self.terms, key=lambda t: -t.usd_per_million_jobs)
        by_service: dict[str, float] = {}
        for term in terms:
            by_service[term.service] = by_service.get(term.service, 0.0) + term.usd_per_million_jobs
        return {
            "jobsPerMonth": self.jobs_per_month,
            "jobsPerSecond": round(load_model.jobs_per_second(self.jobs_per_month), 4),
            "totalUsdPerMillionJobs": round(self.total, 3),
            "perJobUsdPerMillionJobs": round(sum(t.usd_per_million_jobs for t in terms if t.kind == "perJob"), 3),
            "fixedUsdPerMonth": round(sum(t.usd_per_month for t in terms if t.kind == "fixed"), 2),
            "byService": {k: round(v, 3) for k, v in sorted(by_service.items(), key=lambda kv: -kv[1])},
            "terms": [
                asdict(t)
                | {"usd_per_million_jobs": round(t.usd_per_million_jobs, 4), "usd_per_month": round(t.usd_per_month, 2)}
                for t in terms
            ],
            "lanes": [
                {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(lane).items()} for lane in self.lanes
            ],
        }


def fit(points: Sequence[tuple[float, float]], fallback_intercept: float = 0.0) -> tuple[float, float]:
    """``y = a + b x`` by least squares over (records, value) points, ``a, b >= 0``. With one batch size only,
    ``fallback_intercept`` per invocation and the rest per record."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if mean_x == 0:
        return mean_y, 0.0
    if spread == 0:
        a = min(fallback_intercept, mean_y)
        return a, (mean_y - a) / mean_x
    b = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    a = mean_y - b * mean_x
    if a < 0:
        return 0.0, mean_y / mean_x
    if b < 0:
        return mean_y, 0.0
    return a, b


def _mapping(inventory: Inventory, queue: str) -> load_model.Mapping:
    deployed = inventory.mapping(queue)
    if deployed is None:
        return load_model.Mapping(max_concurrency=1000)
    return load_model.Mapping(deployed.max_concurrency, deployed.batch_size, deployed.window_seconds)


def lane_batches(lane: Lane, jobs_per_second: float, inventory: Inventory) -> load_model.Batches:
    """How a lane's records arrive in invocations at this rate."""
    records = lane.records_per_job * jobs_per_second
    cost = load_model.BatchCost(lane.per_batch["seconds"], lane.per_record["seconds"])
    if lane.kind == "api":
        return load_model.Batches(records, records, 0.0, records * cost.seconds(1))
    if lane.kind == "stream":
        return load_model.stream_batches(records, cost)
    return load_model.sqs_batches(records, _mapping(inventory, lane.trigger), cost)


def cost_at_load(profile: Profile, jobs_per_month: float, inventory: Inventory, fixed: Fixed) -> CostAtLoad:
    price = cost_model.price
    rate = load_model.jobs_per_second(jobs_per_month)
    per_job_usd: dict[str, tuple[str, float, str]] = {}

    def add(key: str, service: str, usd_per_job: float, basis: str) -> None:
        per_job_usd[key] = (service, usd_per_job, basis)

    lanes_at_load: list[LaneAtLoad] = []
    totals = dict.fromkeys(COMPONENTS, 0.0)  # per job
    invocations = gb_seconds = init_gb_seconds = platform_bytes = esm_requests = api_requests = 0.0
    by_function_rate: dict[str, float] = {}
    empty_by_queue: dict[str, float] = {}
    platform_line = sum(len(line.encode()) + 1 for line in cost_model.LAMBDA_PLATFORM_LINES)
    for lane in profile.lanes:
        batches = lane_batches(lane, rate, inventory)
        lanes_at_load.append(
            LaneAtLoad(
                f"{lane.function} ({lane.trigger})",
                batches.records_per_second,
                batches.batches_per_second,
                batches.mean_batch,
                batches.empty_receives_per_second,
                batches.busy_invocations,
            )
        )
        per_job_batches = batches.batches_per_second / rate
        for name in COMPONENTS:
            records = lane.records_per_job if lane.kind != "api" else 0.0
            totals[name] += per_job_batches * lane.per_batch[name] + records * lane.per_record[name]
        memory_gb = lane.memory_mb / 1024
        seconds = per_job_batches * lane.per_batch["seconds"] + (
            lane.records_per_job * lane.per_record["seconds"] if lane.kind != "api" else 0.0
        )
        invocations += per_job_batches
        gb_seconds += seconds * memory_gb
        init = profile.init_seconds.get(lane.function, cost_model.DEFAULT_INIT_SECONDS)
        init_gb_seconds += per_job_batches * cost_model.COLD_START_FRACTION * init * memory_gb
        platform_bytes += per_job_batches * platform_line
        by_function_rate[lane.function] = by_function_rate.get(lane.function, 0.0) + batches.batches_per_second
        if lane.kind == "sqs":
            esm_requests += 2 * per_job_batches  # a ReceiveMessage and a DeleteMessageBatch per batch
            empty_by_queue[lane.trigger] = batches.empty_receives_per_second
        if lane.kind == "api":
            api_requests += lane.records_per_job

    add(
        "apiGateway",
        "API Gateway",
        api_requests * price("apiGatewayHttpPerMillionRequests") / 1e6,
        f"{api_requests:.2f} HTTP API requests",
    )
    add(
        "lambdaRequests",
        "Lambda",
        invocations * price("lambdaPerMillionRequests") / 1e6,
        f"{invocations:.3f} invocations (batches formed at this rate)",
    )
    add("lambdaDuration", "Lambda", gb_seconds * price("lambdaArmPerGbSecond"), f"{gb_seconds:.4f} GB-s")
    add(
        "lambdaInit",
        "Lambda",
        init_gb_seconds * price("lambdaArmPerGbSecond"),
        f"{init_gb_seconds:.5f} GB-s of INIT ({cost_model.COLD_START_FRACTION:.0%} of invocations cold)",
    )
    add(
        "dynamodbWrites",
        "DynamoDB",
        totals["wru"] * price("dynamodbPerMillionWriteRequestUnits") / 1e6,
        f"{totals['wru']:.2f} WRU",
    )
    add(
        "dynamodbReads",
        "DynamoDB",
        totals["rru"] * price("dynamodbPerMillionReadRequestUnits") / 1e6,
        f"{totals['rru']:.2f} RRU",
    )
    sqs = totals["sqsRequests"] + profile.sqs_requests_outside_functions + esm_requests
    add(
        "sqs",
        "SQS",
        sqs * price("sqsStandardPerMillionRequests") / 1e6,
        f"{sqs:.2f} requests ({esm_requests:.2f} of them the mappings' receives and deletes)",
    )
    add(
        "eventBridge",
        "EventBridge",
        totals["eventBridgeEntries"] * price("eventBridgeCustomEventsPerMillion") / 1e6,
        f"{totals['eventBridgeEntries']:.2f} job events published",
    )
    add(
        "stepFunctions",
        "Step Functions",
        profile.step_functions_transitions * price("stepFunctionsStandardPerThousandTransitions") / 1000,
        f"{profile.step_functions_transitions:.1f} state transitions",
    )
    access = api_requests * (len(cost_model.API_ACCESS_LOG_LINE) + 1)
    log_bytes = {
        "logsApplication": (totals["logBytes"], "handlers' JSON log lines"),
        "logsEmf": (totals["emfBytes"], "EMF metric lines"),
        "logsLambdaPlatform": (platform_bytes, "Lambda START/END/REPORT lines"),
        "logsApiAccess": (access, "API Gateway access log lines"),
        "logsStepFunctions": (profile.step_functions_log_bytes, "state machine log lines"),
    }
    for key, (size, what) in log_bytes.items():
        add(key, "CloudWatch Logs", size / GB * price("cloudwatchLogsIngestionPerGb"), f"{size:,.0f} bytes of {what}")
    traced = set(inventory.traced_functions)
    traces_per_second = sum(load_model.xray_traces_per_second(r) for f, r in by_function_rate.items() if f in traced)
    executions_per_second = profile.step_functions_executions * rate
    traces_per_second += load_model.xray_traces_per_second(executions_per_second)
    traces = traces_per_second / rate
    sampled = traces / (invocations + profile.step_functions_executions) if invocations else 0.0
    add(
        "xray",
        "X-Ray",
        traces * price("xrayPerMillionTracesRecorded") / 1e6,
        f"{traces:.3f} traces ({sampled:.1%} of invocations and executions: 1/s per traced function + 5 %; "
        f"untraced: {', '.join(sorted(set(by_function_rate) - traced)) or 'none'})",
    )
    add(
        "dataTransfer",
        "Data transfer",
        profile.egress_bytes / GB * price("dataTransferOutPerGb"),
        f"{profile.egress_bytes:,.0f} bytes to agents and the judge",
    )

    terms = [Term(key, service, "perJob", usd * 1e6, basis) for key, (service, usd, basis) in per_job_usd.items()]
    validate_busy = next((lane.busy_invocations for lane in lanes_at_load if lane.lane.startswith("validate (")), 0.0)
    terms += fixed_terms(inventory, fixed, jobs_per_month, empty_by_queue, validate_busy)
    return CostAtLoad(jobs_per_month, terms, lanes_at_load)


def fixed_terms(
    inventory: Inventory,
    fixed: Fixed,
    jobs_per_month: float,
    empty_receives_by_queue: dict[str, float],
    validate_busy_invocations: float = 0.0,
) -> list[Term]:
    """Every monthly cost that does not scale with jobs, as a term per million jobs at ``jobs_per_month``."""
    price = cost_model.price
    month = load_model.SECONDS_PER_MONTH
    monthly: list[tuple[str, str, float, str]] = []
    monthly.append(
        (
            "customMetrics",
            "CloudWatch",
            fixed.metric_series * price("cloudwatchCustomMetricPerMonth"),
            f"{fixed.metric_series} custom metric series (EMF and the every-minute gauges)",
        )
    )
    monthly.append(
        (
            "alarms",
            "CloudWatch",
            inventory.alarm_metrics * price("cloudwatchAlarmPerMetricMonth"),
            f"{inventory.alarms} alarms reading {inventory.alarm_metrics} metrics",
        )
    )
    monthly.append(
        (
            "dashboards",
            "CloudWatch",
            inventory.dashboards * price("cloudwatchDashboardPerMonth"),
            f"{inventory.dashboards} dashboard(s)",
        )
    )
    # the judge's key: Powertools caches it SECRET_CACHE_SECONDS per warm validate container
    containers = max(1, math.ceil(validate_busy_invocations))
    secret_calls = containers * month / cost_model.SECRET_CACHE_SECONDS if inventory.secrets else 0.0
    monthly.append(
        (
            "secretsManager",
            "Secrets Manager",
            inventory.secrets * price("secretsManagerPerSecretMonth")
            + secret_calls / 10_000 * price("secretsManagerPer10kApiCalls"),
            f"{inventory.secrets} secret(s), {secret_calls:,.0f} GetSecretValue a month ({containers} warm "
            f"validate container(s))",
        )
    )
    kms_requests = secret_calls + inventory.tables_encrypted_with_aws_managed_key * KMS_REFRESHES_PER_TABLE_HOUR * (
        month / 3600
    )
    monthly.append(
        (
            "kms",
            "KMS",
            inventory.kms_keys * price("kmsPerKeyMonth") + kms_requests / 10_000 * price("kmsPer10kRequests"),
            f"{inventory.kms_keys} customer managed keys; {kms_requests:,.0f} requests a month (secret "
            f"decrypts, {inventory.tables_encrypted_with_aws_managed_key} tables on the AWS managed key)",
        )
    )
    empty = 0.0
    for mapping in inventory.queue_mappings:
        idle = load_model.SQS_POLLERS / load_model.SQS_LONG_POLL_SECONDS
        empty += empty_receives_by_queue.get(mapping.queue, idle)
    monthly.append(
        (
            "sqsIdlePolling",
            "SQS",
            empty * month * price("sqsStandardPerMillionRequests") / 1e6,
            f"{len(inventory.queue_mappings)} queue mappings x {load_model.SQS_POLLERS} pollers: "
            f"{empty:.2f} empty long polls a second",
        )
    )
    runs = inventory.schedule_runs_per_month(month)
    run = fixed.schedule_run
    run_usd = (
        run.get("invocations", 1.0) * price("lambdaPerMillionRequests") / 1e6
        + run.get("gbSeconds", 0.0) * price("lambdaArmPerGbSecond")
        + run.get("wru", 0.0) * price("dynamodbPerMillionWriteRequestUnits") / 1e6
        + run.get("rru", 0.0) * price("dynamodbPerMillionReadRequestUnits") / 1e6
        + run.get("sqsRequests", 0.0) * price("sqsStandardPerMillionRequests") / 1e6
        + run.get("logBytes", 0.0) / GB * price("cloudwatchLogsIngestionPerGb")
        + load_model.xray_traces_per_second(1 / 60) * 60 * price("xrayPerMillionTracesRecorded") / 1e6
    )
    monthly.append(
        (
            "schedule",
            "Lambda (schedule)",
            runs * run_usd,
            f"{runs:,.0f} scheduled runs a month (sweeper + gauges): {run.get('gbSeconds', 0):.3f} GB-s, "
            f"{run.get('rru', 0):.1f} RRU, {run.get('sqsRequests', 0):.0f} SQS requests each; the rule is free",
        )
    )
    return [
        Term(key, service, "fixed", load_model.per_million_jobs(usd, jobs_per_month), basis, usd)
        for key, service, usd, basis in monthly
    ]
