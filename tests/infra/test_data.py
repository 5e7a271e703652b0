"""Tables from the PynamoDB models; queues, DLQs and event source mappings from catalog.QUEUES."""

from __future__ import annotations

from typing import Any

import pytest

from agent_jobs.catalog import FUNCTIONS, QUEUES, STREAMS
from agent_jobs.repositories.tables import TABLES, table_schema, ttl_attribute
from infra import constants as c
from infra.lambdas import function_id
from infra.queues import construct_id as queue_id
from infra.tables import construct_id as table_id
from tests.infra.helpers import arn, by_path, logical_id, of_type, ref


def _keys(key_schema: list[dict[str, str]]) -> dict[str, str]:
    return {key["KeyType"]: key["AttributeName"] for key in key_schema}


# --- tables ------------------------------------------------------------------------------------------


def test_exactly_the_model_tables(template: dict[str, Any]) -> None:
    assert len(of_type(template, "AWS::DynamoDB::Table")) == len(TABLES)


@pytest.mark.parametrize("setting", sorted(TABLES))
def test_table_matches_its_model(template: dict[str, Any], setting: str) -> None:
    schema = table_schema(TABLES[setting])
    table = by_path(template, f"Tables/{table_id(setting)}/Resource")[1]
    props = table["Properties"]
    assert _keys(props["KeySchema"]) == _keys(schema["key_schema"])
    declared = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    expected = {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]}
    assert declared == expected
    deployed_gsis = {g["IndexName"]: g for g in props.get("GlobalSecondaryIndexes", [])}
    assert set(deployed_gsis) == {g["index_name"] for g in schema["global_secondary_indexes"]}
    for gsi in schema["global_secondary_indexes"]:
        deployed = deployed_gsis[gsi["index_name"]]
        assert _keys(deployed["KeySchema"]) == _keys(gsi["key_schema"])
        projection = deployed["Projection"]
        assert projection["ProjectionType"] == gsi["projection"]["ProjectionType"]
        assert sorted(projection.get("NonKeyAttributes", [])) == sorted(gsi["projection"].get("NonKeyAttributes", []))
    assert "LocalSecondaryIndexes" not in props
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}  # AWS managed key
    ttl = ttl_attribute(TABLES[setting])  # only the idempotency records expire
    if ttl is None:
        assert "TimeToLiveSpecification" not in props
    else:
        assert props["TimeToLiveSpecification"] == {"AttributeName": ttl, "Enabled": True}
    # dev: deletable
    assert table["DeletionPolicy"] == "Delete"
    assert not props.get("DeletionProtectionEnabled", False)


@pytest.mark.parametrize("setting", sorted(TABLES))
def test_prod_tables_are_protected_and_retained(prod_template: dict[str, Any], setting: str) -> None:
    table = by_path(prod_template, f"Tables/{table_id(setting)}/Resource")[1]
    assert table["Properties"]["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


def test_prod_user_pool_and_secret_are_retained(prod_template: dict[str, Any]) -> None:
    pool = by_path(prod_template, "Auth/UserPool/Resource")[1]
    assert pool["Properties"]["DeletionProtection"] == "ACTIVE"
    assert pool["DeletionPolicy"] == "Retain"
    assert by_path(prod_template, "Secrets/OpenAiApiKey/Resource")[1]["DeletionPolicy"] == "Retain"


def test_dev_user_pool_is_deletable(template: dict[str, Any]) -> None:
    pool = by_path(template, "Auth/UserPool/Resource")[1]
    assert pool["Properties"]["DeletionProtection"] == "INACTIVE"
    assert pool["DeletionPolicy"] == "Delete"


# --- queues ------------------------------------------------------------------------------------------


def test_one_queue_and_one_dlq_per_spec(template: dict[str, Any]) -> None:
    assert len(of_type(template, "AWS::SQS::Queue")) == 2 * len(QUEUES)


@pytest.mark.parametrize("spec", QUEUES, ids=lambda spec: spec.key)
def test_queue_with_dlq(template: dict[str, Any], spec: Any) -> None:
    queue = by_path(template, f"Queues/{queue_id(spec.key)}/Resource")[1]["Properties"]
    dlq_id, dlq = by_path(template, f"Queues/{queue_id(spec.key)}Dlq/Resource")
    visibility = FUNCTIONS[spec.consumer].timeout_seconds * 6
    assert queue["VisibilityTimeout"] == visibility > FUNCTIONS[spec.consumer].timeout_seconds
    assert dlq["Properties"]["VisibilityTimeout"] == visibility
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": arn(dlq_id), "maxReceiveCount": spec.max_receive_count}
    for props in (queue, dlq["Properties"]):
        assert props["SqsManagedSseEnabled"] is True
    assert dlq["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


@pytest.mark.parametrize("suffix", ["", "Dlq"])
@pytest.mark.parametrize("spec", QUEUES, ids=lambda spec: spec.key)
def test_queue_denies_plain_http(template: dict[str, Any], spec: Any, suffix: str) -> None:
    queue = logical_id(template, f"Queues/{queue_id(spec.key)}{suffix}/Resource")
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in of_type(template, "AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [ref(queue)]
    ]
    (statements,) = policies
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )


def _mappings(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Event source mappings by the logical id of their queue."""
    found = {}
    for mapping in of_type(template, "AWS::Lambda::EventSourceMapping").values():
        source = mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]
        found[source] = mapping["Properties"]
    return found


def test_mapping_count(template: dict[str, Any]) -> None:
    assert len(of_type(template, "AWS::Lambda::EventSourceMapping")) == 2 * len(QUEUES) + len(STREAMS)


@pytest.mark.parametrize("spec", QUEUES, ids=lambda spec: spec.key)
def test_queue_and_dlq_feed_the_consumer(template: dict[str, Any], spec: Any) -> None:
    mappings = _mappings(template)
    consumer = ref(logical_id(template, f"Functions/{function_id(spec.consumer)}/Resource"))
    main = mappings[logical_id(template, f"Queues/{queue_id(spec.key)}/Resource")]
    assert main["FunctionName"] == consumer
    assert main["BatchSize"] == spec.batch_size
    assert main["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert main["ScalingConfig"] == {"MaximumConcurrency": spec.max_concurrency}
    assert main.get("MaximumBatchingWindowInSeconds", 0) == spec.max_batching_window_seconds
    dlq = mappings[logical_id(template, f"Queues/{queue_id(spec.key)}Dlq/Resource")]
    assert dlq["FunctionName"] == consumer
    assert dlq["BatchSize"] == c.ESM_DLQ_BATCH_SIZE == 10
    assert dlq["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert dlq["ScalingConfig"] == {"MaximumConcurrency": c.ESM_DLQ_MAX_CONCURRENCY}


def test_only_the_execute_queue_gathers_batches(template: dict[str, Any]) -> None:
    """Issue 13: a 1 s batching window on execute (cost at low load), none elsewhere: a job waits one window."""
    mappings = _mappings(template)
    windows = {
        spec.key: mappings[logical_id(template, f"Queues/{queue_id(spec.key)}/Resource")].get(
            "MaximumBatchingWindowInSeconds", 0
        )
        for spec in QUEUES
    }
    assert windows == {"execute": 1, "execute-high": 0, "validate": 0, "checkpoint": 0, "webhooks": 0}


def test_workflow_queues_exist_in_the_catalog() -> None:
    assert set(c.WORKFLOW_QUEUE_KEYS) <= {spec.key for spec in QUEUES}
