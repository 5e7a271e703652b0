"""Creates the platform's AWS resources on moto (tests, local stack) from the same definitions infra/ uses:
the PynamoDB table models, catalog.QUEUES and the workflow's ASL file."""

from __future__ import annotations

import json
from typing import Any

import boto3

from agent_jobs.catalog import QUEUES
from agent_jobs.repositories.tables import TABLES, table_schema
from agent_jobs.workflow.definition import load_definition

PREFIX = "agent-jobs"
ROLE_ARN = "arn:aws:iam::123456789012:role/agent-jobs-workflow"


def _create_table(dynamodb: Any, name: str, schema: dict[str, Any]) -> None:
    indexes = [
        {"IndexName": index["index_name"], "KeySchema": index["key_schema"], "Projection": index["projection"]}
        for index in schema.get("global_secondary_indexes", [])
    ]
    kwargs: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": schema["attribute_definitions"],
        "KeySchema": schema["key_schema"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if indexes:
        kwargs["GlobalSecondaryIndexes"] = indexes
    dynamodb.create_table(**kwargs)


def provision(*, region: str = "us-east-1", endpoint_url: str | None = None, prefix: str = PREFIX) -> dict[str, str]:
    """Creates tables, queues (each with its DLQ) and the checkpoint state machine; returns the settings
    environment (UPPER_CASE names) that points the code at them."""
    session = boto3.session.Session(region_name=region)
    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    sfn = session.client("stepfunctions", endpoint_url=endpoint_url)
    env: dict[str, str] = {"AWS_REGION": region}
    for setting, model in TABLES.items():
        name = f"{prefix}-{setting.removesuffix('_table').replace('_', '-')}"
        _create_table(dynamodb, name, table_schema(model))
        env[setting.upper()] = name
    for spec in QUEUES:
        dlq_url = sqs.create_queue(QueueName=f"{prefix}-{spec.key}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": spec.max_receive_count})
        url = sqs.create_queue(
            QueueName=f"{prefix}-{spec.key}",
            Attributes={"RedrivePolicy": redrive, "VisibilityTimeout": "60"},
        )["QueueUrl"]
        env[spec.setting.upper()] = url
        env[f"{spec.setting.upper().removesuffix('_URL')}_DLQ_URL"] = dlq_url
    machine = sfn.create_state_machine(
        name=f"{prefix}-job-with-checkpoints", definition=load_definition(), roleArn=ROLE_ARN, type="STANDARD"
    )
    env["CHECKPOINT_STATE_MACHINE_ARN"] = machine["stateMachineArn"]
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    return env
