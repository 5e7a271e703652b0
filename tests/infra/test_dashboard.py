"""The dashboard shows what the operations issue lists, with metric names the code really emits."""

import json
import re
from typing import Any

from agent_jobs.metrics_catalog import BY_NAME
from tests.infra.helpers import of_type

PANELS = [
    "Throughput (jobs)",
    "Outcomes",
    "Job duration to COMPLETED (s)",
    "Agent calls",
    "Judge tokens",
    "Checkpoint backlog (gauges)",
    "Queue depth (visible)",
    "DLQ depth",
    "Function errors",
    "Function throttles",
]


def _body(template: dict[str, Any]) -> str:
    (dashboard,) = of_type(template, "AWS::CloudWatch::Dashboard").values()
    return json.dumps(dashboard["Properties"]["DashboardBody"])


def test_dashboard_has_every_panel(template: dict[str, Any]) -> None:
    body = _body(template)
    for title in PANELS:
        assert f'\\"title\\":\\"{title}\\"' in body, title
    for stat in ("p50", "p90", "p99"):
        assert f'\\"stat\\":\\"{stat}\\"' in body


def test_every_app_metric_on_the_dashboard_is_catalogued(template: dict[str, Any]) -> None:
    names = set(re.findall(r'\[\\"AgentJobs\\",\\"(\w+)\\"', _body(template)))
    assert names, "no AgentJobs metric on the dashboard"
    assert names <= set(BY_NAME), names - set(BY_NAME)
    assert {"JobsCompleted", "JobDurationSeconds", "AgentCallLatencyMs", "JudgeTokens", "PendingCheckpoints"} <= names
    assert {"JobsCancelled", "CheckpointsChangesRequested", "CheckpointsCancelled"} <= names  # issue 14's outcomes


def test_alarms_on_failure_rate_and_checkpoint_age_use_emitted_metrics(template: dict[str, Any]) -> None:
    alarms = [a["Properties"] for a in of_type(template, "AWS::CloudWatch::Alarm").values()]
    metric_names = {
        query["MetricStat"]["Metric"]["MetricName"]
        for alarm in alarms
        for query in alarm.get("Metrics", [])
        if "MetricStat" in query
    } | {alarm["MetricName"] for alarm in alarms if "MetricName" in alarm}
    assert {"JobsFailed", "JobsCompleted", "OldestPendingCheckpointAgeSeconds"} <= metric_names
