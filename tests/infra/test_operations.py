"""The checkpoint workflow, the schedule, the secret, and the monitoring (alarms, topic, dashboard)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agent_jobs.catalog import FUNCTIONS, QUEUES
from infra import constants as c
from infra.lambdas import function_id
from infra.monitoring import APP_ALARMS
from infra.queues import construct_id as queue_id
from tests.infra.helpers import arn, as_list, by_path, logical_id, of_type, ref

# --- workflow ----------------------------------------------------------------------------------------


def test_state_machine(template: dict[str, Any]) -> None:
    props = by_path(template, "Workflow/CheckpointWait/Resource")[1]["Properties"]
    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    logging = props["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is False  # task tokens stay out of the logs
    (destination,) = logging["Destinations"]
    assert destination["CloudWatchLogsLogGroup"]["LogGroupArn"] == arn(logical_id(template, "Workflow/Logs/Resource"))
    assert json.loads(props["DefinitionString"]) == json.loads(c.ASL_FILE.read_text())


def test_state_machine_sends_only_to_the_checkpoint_queue(template: dict[str, Any]) -> None:
    policy = by_path(template, "Workflow/CheckpointWait/Role/DefaultPolicy/Resource")[1]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    sqs = [s for s in statements if any(a.startswith("sqs:") for a in as_list(s["Action"]))]
    assert len(sqs) == 1
    assert as_list(sqs[0]["Action"]) == ["sqs:SendMessage"]
    expected = [arn(logical_id(template, f"Queues/{queue_id(key)}/Resource")) for key in c.WORKFLOW_QUEUE_KEYS]
    assert sorted(map(json.dumps, as_list(sqs[0]["Resource"]))) == sorted(map(json.dumps, expected))


# --- schedule ----------------------------------------------------------------------------------------


def test_metrics_runs_every_minute(template: dict[str, Any]) -> None:
    (rule,) = of_type(template, "AWS::Events::Rule").values()
    props = rule["Properties"]
    assert props["ScheduleExpression"] == "rate(1 minute)"
    assert props["State"] == "ENABLED"
    (target,) = props["Targets"]
    assert target["Arn"] == arn(logical_id(template, "Functions/Metrics/Resource"))


# --- secret ------------------------------------------------------------------------------------------


def test_openai_secret_read_by_validate_only(template: dict[str, Any]) -> None:
    secret = logical_id(template, "Secrets/OpenAiApiKey/Resource")
    readers = []
    for name in FUNCTIONS:
        policy = by_path(template, f"Functions/{function_id(name)}Role/DefaultPolicy/Resource")[1]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if ref(secret) in as_list(statement["Resource"]):
                readers.append(name)
                assert set(as_list(statement["Action"])) == {
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:DescribeSecret",
                }
    assert readers == ["validate"]


# --- monitoring --------------------------------------------------------------------------------------


def _alarms(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [a["Properties"] for a in of_type(template, "AWS::CloudWatch::Alarm").values()]


@pytest.mark.parametrize("spec", QUEUES, ids=lambda spec: spec.key)
def test_alarm_for_every_dlq(template: dict[str, Any], spec: Any) -> None:
    dlq = logical_id(template, f"Queues/{queue_id(spec.key)}Dlq/Resource")
    matching = [
        a
        for a in _alarms(template)
        if a.get("MetricName") == "ApproximateNumberOfMessagesVisible"
        and a["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}]
    ]
    (alarm,) = matching
    assert alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_alarm_for_every_function(template: dict[str, Any], name: str) -> None:
    function = logical_id(template, f"Functions/{function_id(name)}/Resource")
    (alarm,) = [
        a
        for a in _alarms(template)
        if a.get("MetricName") == "Errors" and a["Dimensions"] == [{"Name": "FunctionName", "Value": ref(function)}]
    ]
    assert alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def _metric_names(alarm: dict[str, Any]) -> set[str]:
    """A single-metric alarm names it; a math (or labelled) alarm lists its metrics."""
    if "MetricName" in alarm:
        return {alarm["MetricName"]}
    return {m["MetricStat"]["Metric"]["MetricName"] for m in alarm["Metrics"] if "MetricStat" in m}


def test_application_alarms(template: dict[str, Any]) -> None:
    alarms = _alarms(template)
    assert len(alarms) == len(QUEUES) + len(FUNCTIONS) + len(APP_ALARMS)
    (rate,) = [a for a in alarms if _metric_names(a) == {"JobsFailed", "JobsCompleted"}]
    assert any("Expression" in m for m in rate["Metrics"])
    namespaces = {m["MetricStat"]["Metric"]["Namespace"] for m in rate["Metrics"] if "MetricStat" in m}
    assert namespaces == {"AgentJobs"}
    (backlog,) = [a for a in alarms if _metric_names(a) == {"OldestPendingCheckpointAgeSeconds"}]
    assert backlog["Threshold"] > 0


def test_every_alarm_notifies_the_topic(template: dict[str, Any]) -> None:
    topic = ref(logical_id(template, "Monitoring/AlarmTopic/Resource"))
    for alarm in _alarms(template):
        assert alarm["AlarmActions"] == [topic]
        assert alarm["OKActions"] == [topic]


def test_topic_requires_ssl_and_dashboard_exists(template: dict[str, Any]) -> None:
    (policy,) = of_type(template, "AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(s.get("Condition")) for s in statements)
    (dashboard,) = of_type(template, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert "AgentJobs" in body
    assert "JobsCreated" in body
