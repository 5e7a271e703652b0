"""What the measured usage costs on AWS: the assumptions that turn local measurements into a bill.

Everything measured (requests, request units, transitions, log lines) comes from ``bench.cost``; this module
holds what cannot be measured here, each with its reason, and the prices (``prices.json``).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PRICES_FILE = Path(__file__).with_name("prices.json")

# Lambda gives a function CPU in proportion to its memory: one full vCPU at 1,769 MB. The handlers are
# single-threaded Python, so their own CPU time measured here (one full core) runs this many times longer.
LAMBDA_FULL_VCPU_MB = 1769
# Round trips from a Lambda function to the AWS APIs in the same region (p50, seconds), replacing the time
# the calls took on moto in this process.
AWS_LATENCY_SECONDS = {
    "dynamodb.GetItem": 0.005,
    "dynamodb.Query": 0.007,
    "dynamodb.BatchGetItem": 0.008,
    "dynamodb.PutItem": 0.007,
    "dynamodb.UpdateItem": 0.007,
    "dynamodb.TransactWriteItems": 0.015,
    "sqs.SendMessage": 0.010,
    "sfn.StartExecution": 0.030,
    "sfn.SendTaskSuccess": 0.020,
    "sfn.SendTaskFailure": 0.020,
}
DEFAULT_LATENCY_SECONDS = 0.010
# The consumers process a batch's records concurrently (async); their AWS calls overlap this much.
CONCURRENT_BATCH_FUNCTIONS = frozenset({"execute_job", "validate"})
# INIT (cold start) is billed since 1 Aug 2025; AWS reports cold starts in under 1% of invocations.
COLD_START_FRACTION = 0.01
DEFAULT_INIT_SECONDS = 1.0  # when the cold-start benchmark did not run
# X-Ray: tracing=ACTIVE on the state machine and every function but the per-job consumers
# (catalog.FunctionSpec.traced); the default sampling rule records the first
# request each second and 5% of the rest. At load the 5% dominates; the reservoir (≤ 86,400 traces a day
# whatever the volume) is left out of a per-job figure.
XRAY_SAMPLED_FRACTION = 0.05
# The judge's API key: Powertools parameters cache (max_age=300 s) per warm validate container.
SECRET_CACHE_SECONDS = 300
VALIDATE_CONTAINERS = 5  # the validate queue's maximum concurrency
ASSUMED_LOAD_JOBS_PER_SECOND = 10.0  # only the Secrets Manager line depends on it
# CloudWatch Logs lines AWS writes itself, per Lambda invocation and per API request.
_REQUEST_ID = str(uuid.UUID(int=0))
LAMBDA_PLATFORM_LINES = (
    f"START RequestId: {_REQUEST_ID} Version: $LATEST",
    f"END RequestId: {_REQUEST_ID}",
    f"REPORT RequestId: {_REQUEST_ID}\tDuration: 123.45 ms\tBilled Duration: 124 ms\tMemory Size: 256 MB\t"
    "Max Memory Used: 98 MB\t",
)
API_ACCESS_LOG_LINE = json.dumps(  # infra/api.py ACCESS_LOG_FORMAT with typical values
    {
        "requestId": "Ab1Cd2Ef3Gh4Ij=",
        "ip": "203.0.113.10",
        "requestTime": "22/Nov/2025:21:14:32 +0000",
        "routeKey": "POST /api/jobs",
        "status": "201",
        "protocol": "HTTP/1.1",
        "responseLength": "812",
        "responseLatency": "84",
        "integrationLatency": "80",
        "integrationError": "-",
        "authorizerError": "-",
        "userId": "3f2b6c1e-8d4a-4e0b-9b7c-2a1d5e6f7a8b",
    }
)


def prices() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(PRICES_FILE.read_text())
    return loaded


def price(name: str) -> float:
    return float(prices()["prices"][name]["value"])


def cpu_scale(memory_mb: int) -> float:
    return max(1.0, LAMBDA_FULL_VCPU_MB / memory_mb)


def latency_of(call_kind: str) -> float:
    return AWS_LATENCY_SECONDS.get(call_kind, DEFAULT_LATENCY_SECONDS)


def step_functions_log_line(event: dict[str, Any], execution_arn: str) -> str:
    """The CloudWatch Logs line of one history event at level ALL without execution data."""
    details_key = next((k for k in event if k.endswith("EventDetails")), "")
    details = {
        k: v
        for k, v in (event.get(details_key) or {}).items()
        if k not in ("input", "output", "parameters", "inputDetails", "outputDetails", "result", "resultDetails")
    }
    record = {
        "id": str(event.get("id")),
        "type": event.get("type"),
        "details": details,
        "previous_event_id": str(event.get("previousEventId", 0)),
        "event_timestamp": "1763846072509",
        "execution_arn": execution_arn,
        "redrive_count": "0",
    }
    return json.dumps(record, default=str)


@dataclass(frozen=True)
class Line:
    key: str
    service: str
    usd_per_million_jobs: float
    basis: str


def bill(usage: dict[str, Any]) -> list[Line]:
    """Cost per million jobs of one job type's usage per job, line by line."""
    per_million = 1_000_000
    gb = 1024**3
    lam = usage["lambda"]
    logs = usage["logs"]
    ddb = usage["dynamodb"]
    log_bytes = {
        "logsApplication": ("handlers' JSON log lines", logs["appBytes"]),
        "logsEmf": ("EMF metric lines", logs["emfBytes"]),
        "logsLambdaPlatform": ("Lambda START/END/REPORT lines", logs["platformBytes"]),
        "logsApiAccess": ("API Gateway access log lines", logs["accessLogBytes"]),
        "logsStepFunctions": ("state machine log (level ALL, no data)", logs["stepFunctionsBytes"]),
    }
    lines = [
        Line(
            "apiGateway",
            "API Gateway",
            usage["apiRequests"] * price("apiGatewayHttpPerMillionRequests"),
            f"{usage['apiRequests']:.2f} HTTP API requests",
        ),
        Line(
            "lambdaRequests",
            "Lambda",
            lam["invocations"] * price("lambdaPerMillionRequests"),
            f"{lam['invocations']:.2f} invocations",
        ),
        Line(
            "lambdaDuration",
            "Lambda",
            lam["gbSeconds"] * per_million * price("lambdaArmPerGbSecond"),
            f"{lam['gbSeconds']:.4f} GB-s (of which agent/judge waits {lam['waitGbSeconds']:.4f})",
        ),
        Line(
            "lambdaInit",
            "Lambda",
            lam["initGbSeconds"] * per_million * price("lambdaArmPerGbSecond"),
            f"{lam['initGbSeconds']:.5f} GB-s of INIT ({COLD_START_FRACTION:.0%} cold starts)",
        ),
        Line(
            "dynamodbWrites",
            "DynamoDB",
            ddb["wru"] * price("dynamodbPerMillionWriteRequestUnits"),
            f"{ddb['wru']:.2f} WRU ({ddb['indexWru']:.2f} of them index writes)",
        ),
        Line(
            "dynamodbReads",
            "DynamoDB",
            ddb["rru"] * price("dynamodbPerMillionReadRequestUnits"),
            f"{ddb['rru']:.2f} RRU",
        ),
        Line(
            "sqs",
            "SQS",
            usage["sqs"]["requests"] * price("sqsStandardPerMillionRequests"),
            f"{usage['sqs']['requests']:.2f} requests",
        ),
        Line(
            "stepFunctions",
            "Step Functions",
            usage["stepFunctions"]["transitions"]
            * per_million
            / 1000
            * price("stepFunctionsStandardPerThousandTransitions"),
            f"{usage['stepFunctions']['transitions']:.1f} state transitions",
        ),
    ]
    for key, (what, size) in log_bytes.items():
        lines.append(
            Line(
                key,
                "CloudWatch Logs",
                size * per_million / gb * price("cloudwatchLogsIngestionPerGb"),
                f"{size:,.0f} bytes of {what}",
            )
        )
    lines += [
        Line(
            "xray",
            "X-Ray",
            usage["xrayTraces"] * price("xrayPerMillionTracesRecorded"),
            f"{usage['xrayTraces']:.3f} traces ({XRAY_SAMPLED_FRACTION:.0%} of invocations and executions)",
        ),
        Line(
            "secretsManager",
            "Secrets Manager",
            usage["secretsManagerCalls"] * per_million / 10_000 * price("secretsManagerPer10kApiCalls"),
            f"{usage['secretsManagerCalls']:.5f} GetSecretValue (cached {SECRET_CACHE_SECONDS} s per container)",
        ),
        Line(
            "dataTransfer",
            "Data transfer",
            usage["egressBytes"] * per_million / gb * price("dataTransferOutPerGb"),
            f"{usage['egressBytes']:,.0f} bytes to agents and the judge",
        ),
    ]
    return lines


def by_service(lines: list[Line]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for line in lines:
        totals[line.service] = totals.get(line.service, 0.0) + line.usd_per_million_jobs
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))


def storage_per_million_jobs_month(storage_bytes: float) -> float:
    return storage_bytes * 1_000_000 / 1024**3 * price("dynamodbStoragePerGbMonth")
