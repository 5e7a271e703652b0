"""What the deployed stack bills every month whatever the traffic, read from the synthesized CloudFormation
template (``python infra/app.py``, bundling skipped), so the cost model counts what infra/ really deploys:
the event source mappings (with their concurrency and batching window), alarms and their metrics, dashboards,
secrets, KMS keys, encrypted tables, the schedule and the state machine's log level.

    python -m bench.inventory --out inventory.json [--template AgentJobs.template.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SYNTH_CONTEXT = {"aws:cdk:bundling-stacks": [], "aws:cdk:enable-path-metadata": True}


@dataclass(frozen=True)
class QueueMapping:
    queue: str  # the catalog key, e.g. "execute" or "execute-dlq"
    function: str  # the consumer's logical id
    batch_size: int
    max_concurrency: int
    window_seconds: float


@dataclass
class Inventory:
    source: str
    queue_mappings: list[QueueMapping] = field(default_factory=list)
    stream_mappings: int = 0
    alarms: int = 0
    alarm_metrics: int = 0  # CloudWatch bills an alarm per metric it evaluates (metric math: each metric)
    dashboards: int = 0
    secrets: int = 0
    kms_keys: int = 0  # customer managed keys ($1 a month each)
    tables_encrypted_with_aws_managed_key: int = 0
    tables_with_pitr: int = 0
    schedule_expressions: list[str] = field(default_factory=list)
    state_machine_log_levels: list[str] = field(default_factory=list)
    traced_functions: list[str] = field(default_factory=list)  # catalog names of the functions with tracing=ACTIVE

    def mapping(self, queue: str) -> QueueMapping | None:
        return next((m for m in self.queue_mappings if m.queue == queue), None)

    def schedule_runs_per_month(self, seconds_per_month: float) -> float:
        total = 0.0
        for expression in self.schedule_expressions:
            amount, unit = expression.removeprefix("rate(").removesuffix(")").split()
            seconds = float(amount) * {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400}[unit]
            total += seconds_per_month / seconds
        return total


def _queue_names(resources: dict[str, Any]) -> dict[str, str]:
    """Queue logical id → catalog key (the queue's name without the stack-name prefix)."""
    names = {}
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::SQS::Queue":
            name = str(resource["Properties"].get("QueueName", logical_id))
            names[logical_id] = name.split("-", 1)[1] if "-" in name else name
    return names


def _function_name(resource: dict[str, Any], logical_id: str) -> str:
    """The catalog name of a function from its construct path (``…/Functions/ExecuteJob/Resource`` ->
    ``execute_job``, the inverse of ``infra.lambdas.function_id``)."""
    path = str((resource.get("Metadata") or {}).get("aws:cdk:path", logical_id))
    construct = path.removesuffix("/Resource").rsplit("/", 1)[-1]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", construct).lower()


def _alarm_metrics(properties: dict[str, Any]) -> int:
    if properties.get("MetricName"):
        return 1
    return sum(1 for metric in properties.get("Metrics", []) if "MetricStat" in metric) or 1


def from_template(template: dict[str, Any], source: str) -> Inventory:
    resources: dict[str, Any] = template.get("Resources", {})
    queues = _queue_names(resources)
    found = Inventory(source=source)
    for logical_id, resource in resources.items():
        kind, properties = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::Lambda::EventSourceMapping":
            source_arn = properties.get("EventSourceArn", {})
            target, attribute = (source_arn.get("Fn::GetAtt") or [logical_id, ""])[:2]
            if attribute == "StreamArn":
                found.stream_mappings += 1
                continue
            found.queue_mappings.append(
                QueueMapping(
                    queue=queues.get(target, target),
                    function=str((properties.get("FunctionName") or {}).get("Ref", "")),
                    batch_size=int(properties.get("BatchSize", 10)),
                    max_concurrency=int((properties.get("ScalingConfig") or {}).get("MaximumConcurrency", 1000)),
                    window_seconds=float(properties.get("MaximumBatchingWindowInSeconds") or 0),
                )
            )
        elif kind == "AWS::CloudWatch::Alarm":
            found.alarms += 1
            found.alarm_metrics += _alarm_metrics(properties)
        elif kind == "AWS::CloudWatch::Dashboard":
            found.dashboards += 1
        elif kind == "AWS::SecretsManager::Secret":
            found.secrets += 1
        elif kind == "AWS::KMS::Key":
            found.kms_keys += 1
        elif kind == "AWS::DynamoDB::Table":
            sse = properties.get("SSESpecification") or {}
            if sse.get("SSEEnabled") and not sse.get("KMSMasterKeyId"):
                found.tables_encrypted_with_aws_managed_key += 1
            if (properties.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled"):
                found.tables_with_pitr += 1
        elif kind == "AWS::Events::Rule" and properties.get("ScheduleExpression"):
            found.schedule_expressions.append(str(properties["ScheduleExpression"]))
        elif kind == "AWS::StepFunctions::StateMachine":
            found.state_machine_log_levels.append(str((properties.get("LoggingConfiguration") or {}).get("Level")))
        elif kind == "AWS::Lambda::Function" and (properties.get("TracingConfig") or {}).get("Mode") == "Active":
            found.traced_functions.append(_function_name(resource, logical_id))
    return found


def synthesize(outdir: Path) -> Path:
    """``python infra/app.py`` as the infra tests run it (no bundling); returns the stack's template."""
    env = {key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "CDK_CONTEXT_JSON"}}
    env |= {
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps(SYNTH_CONTEXT),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    done = subprocess.run(
        [sys.executable, "infra/app.py"], check=False, cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"synth failed: {done.stderr[-2000:]}")
    return sorted(outdir.glob("*.template.json"))[0]  # the app has one stack


def load(template: Path | None = None) -> Inventory:
    if template is not None:
        return from_template(json.loads(template.read_text()), str(template.name))
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as outdir:
        path = synthesize(Path(outdir))
        return from_template(json.loads(path.read_text()), f"synthesized {path.name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--template", type=Path)
    options = parser.parse_args(argv)
    options.out.write_text(json.dumps(asdict(load(options.template)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
