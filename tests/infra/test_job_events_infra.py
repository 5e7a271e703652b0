"""The idempotency table, the jobs and checkpoints streams, the events function with its mappings, and the
EventBridge bus (DESIGN.md §15)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agent_jobs.catalog import FUNCTIONS, STREAMS
from agent_jobs.repositories.tables import TABLES
from infra.lambdas import function_id
from infra.tables import construct_id as table_id
from tests.infra.helpers import arn, as_list, by_path, logical_id, of_type, ref

STREAMED = {spec.table for spec in STREAMS}


def test_the_idempotency_table_expires_its_records(template: dict[str, Any]) -> None:
    props = by_path(template, f"Tables/{table_id('idempotency_table')}/Resource")[1]["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert "StreamSpecification" not in props


@pytest.mark.parametrize("setting", sorted(TABLES))
def test_streams_on_the_jobs_and_checkpoints_tables_only(template: dict[str, Any], setting: str) -> None:
    props = by_path(template, f"Tables/{table_id(setting)}/Resource")[1]["Properties"]
    if setting in STREAMED:
        assert props["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    else:
        assert "StreamSpecification" not in props
    assert {"jobs_table", "checkpoints_table"} == STREAMED


def test_the_events_function_is_deployed(template: dict[str, Any]) -> None:
    function = by_path(template, f"Functions/{function_id('events')}/Resource")[1]["Properties"]
    assert function["Timeout"] == FUNCTIONS["events"].timeout_seconds
    bus = logical_id(template, "JobEvents/Bus/Resource")
    assert function["Environment"]["Variables"]["EVENTS_BUS_NAME"] == ref(bus)


@pytest.mark.parametrize("spec", STREAMS, ids=lambda spec: spec.table)
def test_each_stream_feeds_the_events_function(template: dict[str, Any], spec: Any) -> None:
    table = logical_id(template, f"Tables/{table_id(spec.table)}/Resource")
    (mapping,) = [
        m["Properties"]
        for m in of_type(template, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [table, "StreamArn"]}
    ]
    assert mapping["FunctionName"] == ref(logical_id(template, f"Functions/{function_id(spec.consumer)}/Resource"))
    assert mapping["BatchSize"] == spec.batch_size
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["MaximumRetryAttempts"] == spec.retry_attempts
    assert mapping["MaximumRecordAgeInSeconds"] == 24 * 3600


def test_the_bus_and_who_may_put_on_it(template: dict[str, Any]) -> None:
    (bus,) = of_type(template, "AWS::Events::EventBus").values()
    assert bus["Properties"]["Name"] == "agent-jobs-events"
    bus_id = logical_id(template, "JobEvents/Bus/Resource")
    putters = set()
    for policy in of_type(template, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "events:PutEvents" in as_list(statement["Action"]):
                assert statement["Resource"] == arn(bus_id)
                putters |= {role["Ref"] for role in policy["Properties"]["Roles"]}
    assert putters == {logical_id(template, f"Functions/{function_id('events')}Role/Resource")}


STREAM_ACTIONS = {
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
}


def test_the_events_function_reads_only_its_streams(template: dict[str, Any]) -> None:
    """The job and checkpoint images come in the stream records: no access to those tables. Its only table access
    is what ``subscribers.deliver`` needs: the webhook subscriptions, the delivery log, the real-time connections."""
    role = logical_id(template, f"Functions/{function_id('events')}Role/Resource")
    tables = {setting: logical_id(template, f"Tables/{table_id(setting)}/Resource") for setting in TABLES}
    subscriber_tables = {tables[s] for s in ("webhooks_table", "webhook_deliveries_table", "realtime_table")}
    stream_actions: set[str] = set()
    for policy in of_type(template, "AWS::IAM::Policy").values():
        if ref(role) in policy["Properties"]["Roles"]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = {a for a in as_list(statement["Action"]) if a.startswith("dynamodb:")}
                if not actions:
                    continue
                if actions <= STREAM_ACTIONS:
                    stream_actions |= actions
                else:
                    named = {lid for lid in tables.values() if f'"{lid}"' in json.dumps(statement["Resource"])}
                    assert named and named <= subscriber_tables, (actions, named)
    assert stream_actions == STREAM_ACTIONS
