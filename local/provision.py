"""Creates the platform's AWS resources on moto (tests, local stack) from the same definitions infra/ uses:
the PynamoDB table models, catalog.QUEUES and catalog.FUNCTIONS, and the workflow's ASL file.

``provision()`` makes what the handlers talk to (tables — the jobs' and checkpoints' with their streams —, the
events bus, queues with DLQs, the state machine; its two halves
``provision_storage()`` and ``provision_state_machine()`` can run in parallel);
``provision_functions()`` adds the Lambda side the local stack needs so that worker start/stop works as in
the cloud (a placeholder function per catalog entry, an event source mapping per queue and DLQ);
``provision_dashboard()`` the CloudWatch dashboard.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3

from agent_jobs.catalog import DLQ_BATCH_SIZE, DLQ_MAX_CONCURRENCY, DLQ_SUFFIX, FUNCTIONS, QUEUES, STREAMS, QueueSpec
from agent_jobs.repositories.tables import TABLES, table_schema
from agent_jobs.workflow.definition import load_definition

PREFIX = "agent-jobs"
ROLE_ARN = "arn:aws:iam::123456789012:role/agent-jobs-workflow"
FUNCTION_RUNTIME = "python3.12"
FUNCTION_HANDLER = "handler.handler"
DASHBOARD_NAME = "agent-jobs"
METRICS_NAMESPACE = "AgentJobs"
REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"
STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"
_LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def queue_name(spec: QueueSpec, prefix: str = PREFIX) -> str:
    return f"{prefix}-{spec.key}"


def dlq_name(spec: QueueSpec, prefix: str = PREFIX) -> str:
    return f"{prefix}-{spec.key}{DLQ_SUFFIX}"


def dlq_setting(spec: QueueSpec) -> str:
    """The environment name of a queue's DLQ URL, e.g. ``EXECUTE_QUEUE_DLQ_URL``."""
    return f"{spec.setting.upper().removesuffix('_URL')}_DLQ_URL"


def function_name(name: str, prefix: str = PREFIX) -> str:
    """The deployed name of a catalog function, e.g. ``agent-jobs-execute_job``."""
    return f"{prefix}-{name}"


def _create_table(dynamodb: Any, name: str, schema: dict[str, Any], *, stream: bool = False) -> None:
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
    if stream:  # catalog.STREAMS: the job events' source (local/streams.py plays its event source mapping)
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": STREAM_VIEW_TYPE}
    dynamodb.create_table(**kwargs)


def provision(*, region: str = "us-east-1", endpoint_url: str | None = None, prefix: str = PREFIX) -> dict[str, str]:
    """Creates tables, queues (each with its DLQ) and the checkpoint state machine; returns the settings
    environment (UPPER_CASE names) that points the code at them."""
    env = provision_storage(region=region, endpoint_url=endpoint_url, prefix=prefix)
    env.update(provision_state_machine(region=region, endpoint_url=endpoint_url, prefix=prefix))
    return env


def provision_storage(
    *, region: str = "us-east-1", endpoint_url: str | None = None, prefix: str = PREFIX
) -> dict[str, str]:
    """The tables and the queues with their DLQs (``provision()`` without the state machine)."""
    session = boto3.session.Session(region_name=region)
    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    env: dict[str, str] = {"AWS_REGION": region}
    streamed = {spec.table for spec in STREAMS}
    for setting, model in TABLES.items():
        name = f"{prefix}-{setting.removesuffix('_table').replace('_', '-')}"
        _create_table(dynamodb, name, table_schema(model), stream=setting in streamed)
        env[setting.upper()] = name
    bus = f"{prefix}-events"
    session.client("events", endpoint_url=endpoint_url).create_event_bus(Name=bus)
    env["EVENTS_BUS_NAME"] = bus
    for spec in QUEUES:
        dlq_url = sqs.create_queue(QueueName=dlq_name(spec, prefix))["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": spec.max_receive_count})
        url = sqs.create_queue(
            QueueName=queue_name(spec, prefix),
            Attributes={"RedrivePolicy": redrive, "VisibilityTimeout": "60"},
        )["QueueUrl"]
        env[spec.setting.upper()] = url
        env[dlq_setting(spec)] = dlq_url
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    return env


def provision_state_machine(
    *, region: str = "us-east-1", endpoint_url: str | None = None, prefix: str = PREFIX
) -> dict[str, str]:
    """The checkpoint wait (the shared ASL file) as a Standard state machine."""
    sfn = boto3.session.Session(region_name=region).client("stepfunctions", endpoint_url=endpoint_url)
    machine = sfn.create_state_machine(
        name=f"{prefix}-checkpoint-wait", definition=load_definition(), roleArn=ROLE_ARN, type="STANDARD"
    )
    return {"CHECKPOINT_STATE_MACHINE_ARN": machine["stateMachineArn"]}


def _placeholder_zip() -> bytes:
    """The deployment package of a function moto keeps but never runs (the local stack runs the code)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    raise RuntimeError('runs in local.stack')\n")
    return buffer.getvalue()


def provision_functions(
    env: dict[str, str],
    *,
    region: str = "us-east-1",
    endpoint_url: str | None = None,
    prefix: str = PREFIX,
    function_env: dict[str, str] | None = None,
    enabled: bool = True,
) -> dict[str, str]:
    """A Lambda function per ``catalog.FUNCTIONS`` entry and an event source mapping per queue and per DLQ
    (→ the queue's consumer), as infra/ deploys them; ``env`` is what ``provision()`` returned. Returns the
    settings environment to add (``EXECUTE_FUNCTION_NAME``).

    moto keeps these as records only. Under ``mock_aws`` or a plain moto server an *enabled* mapping makes
    moto itself consume the queue on every send (and fail): there, pass ``enabled=False``. The local stack's
    moto server (``local.moto_server``) has that push detached, so its mappings start enabled, like AWS.
    """
    session = boto3.session.Session(region_name=region)
    iam = session.client("iam", endpoint_url=endpoint_url)
    lambda_: Any = session.client("lambda", endpoint_url=endpoint_url)
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    role_arn = iam.create_role(RoleName=f"{prefix}-functions", AssumeRolePolicyDocument=json.dumps(_LAMBDA_TRUST))[
        "Role"
    ]["Arn"]
    code = _placeholder_zip()
    variables = {k: v for k, v in (function_env or {}).items() if "KEY" not in k and "SECRET" not in k}
    for function in FUNCTIONS.values():
        lambda_.create_function(
            FunctionName=function_name(function.name, prefix),
            Runtime=FUNCTION_RUNTIME,
            Role=role_arn,
            Handler=FUNCTION_HANDLER,
            Code={"ZipFile": code},
            Description=function.description,
            Timeout=function.timeout_seconds,
            MemorySize=function.memory_mb,
            Environment={"Variables": variables},
        )
    for spec in QUEUES:
        sources = (
            (env[spec.setting.upper()], spec.batch_size, spec.max_concurrency),
            (env[dlq_setting(spec)], DLQ_BATCH_SIZE, DLQ_MAX_CONCURRENCY),
        )
        for url, batch_size, concurrency in sources:
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            lambda_.create_event_source_mapping(
                EventSourceArn=arn,
                FunctionName=function_name(spec.consumer, prefix),
                BatchSize=batch_size,
                Enabled=enabled,
                FunctionResponseTypes=[REPORT_BATCH_ITEM_FAILURES],
                ScalingConfig={"MaximumConcurrency": concurrency},
            )
    return {"EXECUTE_FUNCTION_NAME": function_name("execute_job", prefix)}


def dashboard_body(region: str = "us-east-1", namespace: str = METRICS_NAMESPACE) -> dict[str, Any]:
    """Every metric of the namespace, found by SEARCH (so the local dashboard never lists names twice)."""

    def widget(title: str, stat: str, y: int) -> dict[str, Any]:
        return {
            "type": "metric",
            "x": 0,
            "y": y,
            "width": 24,
            "height": 6,
            "properties": {
                "title": title,
                "region": region,
                "view": "timeSeries",
                "stat": stat,
                "period": 60,
                "metrics": [[{"expression": f"SEARCH('{{{namespace}}}', '{stat}', 60)", "id": "e1"}]],
            },
        }

    return {
        "widgets": [
            widget(f"{namespace}: counters (sum per minute)", "Sum", 0),
            widget(f"{namespace}: latencies and gauges (max per minute)", "Maximum", 6),
        ]
    }


def provision_dashboard(*, region: str = "us-east-1", endpoint_url: str | None = None) -> str:
    session = boto3.session.Session(region_name=region)
    cloudwatch = session.client("cloudwatch", endpoint_url=endpoint_url)
    cloudwatch.put_dashboard(DashboardName=DASHBOARD_NAME, DashboardBody=json.dumps(dashboard_body(region)))
    return DASHBOARD_NAME
