"""The cost model's load arithmetic (bench/load_model.py, bench/cost_at_load.py, bench/inventory.py).

The old model priced every job at full batches of 10, X-Ray at a flat 5 % and left the fixed monthly costs out
of the per-job figure; each test below fails on those formulas.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from bench import cost_at_load, cost_model, load_model
from bench.inventory import Inventory, QueueMapping, from_template

ONE_M, TEN_M, FIFTY_M = load_model.LOADS_JOBS_PER_MONTH
AGENT_BATCH = load_model.BatchCost(per_batch_seconds=1.05, per_record_seconds=0.03)  # a 1 s agent + overhead


def rate(jobs_per_month: float) -> float:
    return load_model.jobs_per_second(jobs_per_month)


# --- batch sizes -----------------------------------------------------------------------------------------
def test_a_month_is_730_hours() -> None:
    assert rate(10_000_000) == pytest.approx(10_000_000 / (730 * 3600))


def test_at_1m_jobs_a_month_an_idle_pool_of_pollers_takes_messages_one_at_a_time() -> None:
    batches = load_model.sqs_batches(rate(ONE_M), load_model.Mapping(max_concurrency=5), AGENT_BATCH)
    assert batches.mean_batch < 1.05  # not the 10 of a full batch


def test_batches_grow_only_once_every_poller_is_busy() -> None:
    mapping = load_model.Mapping(max_concurrency=5)
    at_10m = load_model.sqs_batches(rate(TEN_M), mapping, AGENT_BATCH)
    at_50m = load_model.sqs_batches(rate(FIFTY_M), mapping, AGENT_BATCH)
    # saturated pollers: each takes what arrived during one invocation, k = rate * a / (N - rate * b)
    r = rate(FIFTY_M)
    saturated = r * AGENT_BATCH.per_batch_seconds / (5 - r * AGENT_BATCH.per_record_seconds)
    assert 1.0 < at_10m.mean_batch < 2.0
    assert at_50m.mean_batch == pytest.approx(saturated, rel=0.15)
    assert at_50m.busy_invocations <= 5.0


def test_a_batching_window_gathers_what_arrives_within_it() -> None:
    r = rate(ONE_M)
    windowed = load_model.sqs_batches(r, load_model.Mapping(max_concurrency=5, window_seconds=2.0), AGENT_BATCH)
    assert windowed.mean_batch == pytest.approx(1 + 2.0 * r, rel=0.1)


def test_the_batch_never_exceeds_the_mappings_batch_size_and_concurrency_caps_invocations() -> None:
    batches = load_model.sqs_batches(30.0, load_model.Mapping(max_concurrency=2), AGENT_BATCH)
    assert batches.mean_batch <= 10
    assert batches.busy_invocations <= 2.0 + 1e-9


def test_an_idle_mapping_still_long_polls_with_every_poller() -> None:
    idle = load_model.sqs_batches(0.0, load_model.Mapping(max_concurrency=2), AGENT_BATCH)
    assert idle.empty_receives_per_second == pytest.approx(load_model.SQS_POLLERS / 20.0)
    assert idle.batches_per_second == 0


def test_a_stream_mapping_batches_what_a_shard_gathered_between_reads() -> None:
    cost = load_model.BatchCost(0.05, 0.002)
    slow = load_model.stream_batches(rate(ONE_M) * 5, cost)
    busy = load_model.stream_batches(400.0, cost, batch_size=100)
    assert slow.mean_batch < 1.2
    per_shard_read = 400.0 / load_model.STREAM_SHARDS * load_model.STREAM_POLL_SECONDS
    assert busy.mean_batch == pytest.approx(per_shard_read, rel=0.2)


# --- X-Ray -------------------------------------------------------------------------------------------------
def test_xray_records_the_first_request_each_second_then_five_percent() -> None:
    assert load_model.xray_traces_per_second(0.0) == 0
    low = 0.4
    assert load_model.xray_traces_per_second(low) == pytest.approx((1 - math.exp(-low)) * 0.95 + 0.05 * low)
    assert load_model.xray_traces_per_second(20.0) == pytest.approx(1 + 0.05 * 19, rel=1e-6)
    assert load_model.xray_traces_per_second(low) / low > 0.8  # not 5 % at low traffic


# --- the cost at a load ------------------------------------------------------------------------------------
def components(**values: float) -> dict[str, float]:
    return {name: values.get(name, 0.0) for name in cost_at_load.COMPONENTS}


def profile() -> cost_at_load.Profile:
    return cost_at_load.Profile(
        lanes=(
            cost_at_load.Lane("create_job", "api", 512, 2.0, components(seconds=0.05, wru=3), components()),
            cost_at_load.Lane(
                "execute_job", "execute", 512, 1.0, components(seconds=1.05, wru=2), components(seconds=0.03, wru=4)
            ),
            cost_at_load.Lane(
                "events", "jobs_table stream", 256, 5.0, components(seconds=0.05), components(eventBridgeEntries=1)
            ),
        ),
        egress_bytes=2000,
    )


def inventory(traced: tuple[str, ...] = ("create_job", "execute_job", "events")) -> Inventory:
    return Inventory(
        source="test",
        traced_functions=list(traced),
        queue_mappings=[
            QueueMapping("execute", "Execute", 10, 5, 0.0),
            QueueMapping("execute-dlq", "Execute", 10, 2, 0.0),
        ],
        alarms=2,
        alarm_metrics=3,
        dashboards=1,
        secrets=1,
        schedule_expressions=["rate(1 minute)"],
    )


FIXED = cost_at_load.Fixed(metric_series=10, schedule_run={"invocations": 1, "gbSeconds": 0.1, "rru": 4})


def terms(jobs: float) -> dict[str, cost_at_load.Term]:
    return {t.key: t for t in cost_at_load.cost_at_load(profile(), jobs, inventory(), FIXED).terms}


def test_fixed_monthly_costs_are_spread_over_the_months_jobs() -> None:
    at_1m, at_50m = terms(ONE_M), terms(FIFTY_M)
    assert at_1m["alarms"].usd_per_month == pytest.approx(0.30)  # 3 alarm metrics
    assert at_1m["alarms"].usd_per_million_jobs == pytest.approx(0.30)
    assert at_50m["alarms"].usd_per_million_jobs == pytest.approx(0.30 / 50)
    assert at_1m["dashboards"].usd_per_million_jobs == pytest.approx(3.0)
    assert at_1m["customMetrics"].usd_per_month == pytest.approx(3.0)
    runs = 730 * 60
    assert at_1m["schedule"].usd_per_month > runs * 0.1 * cost_model.price("lambdaArmPerGbSecond")
    # the DLQ's five pollers long-poll every 20 s whatever the load
    dlq_polls = 5 / 20 * 730 * 3600 * cost_model.price("sqsStandardPerMillionRequests") / 1e6
    assert at_50m["sqsIdlePolling"].usd_per_month >= dlq_polls


def test_xray_costs_more_per_job_at_1m_than_at_50m_jobs_a_month() -> None:
    at_1m, at_50m = terms(ONE_M)["xray"], terms(FIFTY_M)["xray"]
    assert at_1m.usd_per_million_jobs > 4 * at_50m.usd_per_million_jobs
    flat = (2 + 1 + 5) * 0.05 * cost_model.price("xrayPerMillionTracesRecorded")  # the old 5 % of every invocation
    assert at_1m.usd_per_million_jobs > 5 * flat


def test_an_untraced_function_records_no_trace() -> None:
    """Issue 13: only the functions the template traces are billed for X-Ray (here the API alone)."""
    rate = load_model.jobs_per_second(ONE_M)
    api_only = cost_at_load.cost_at_load(profile(), ONE_M, inventory(traced=("create_job",)), FIXED)
    (xray,) = [t for t in api_only.terms if t.key == "xray"]
    create_traces_per_job = load_model.xray_traces_per_second(2.0 * rate) / rate  # 2 API requests a job
    expected = create_traces_per_job * cost_model.price("xrayPerMillionTracesRecorded")
    assert xray.usd_per_million_jobs == pytest.approx(expected)
    assert xray.usd_per_million_jobs < terms(ONE_M)["xray"].usd_per_million_jobs / 2


def test_the_inventory_names_the_traced_functions() -> None:
    template = {
        "Resources": {
            "FunctionsCreateJob0A1B2C3D": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"TracingConfig": {"Mode": "Active"}},
                "Metadata": {"aws:cdk:path": "AgentJobs/Functions/CreateJob/Resource"},
            },
            "FunctionsExecuteJob4E5F6A7B": {
                "Type": "AWS::Lambda::Function",
                "Properties": {},
                "Metadata": {"aws:cdk:path": "AgentJobs/Functions/ExecuteJob/Resource"},
            },
        }
    }
    assert from_template(template, "test").traced_functions == ["create_job"]


def test_lambda_requests_and_per_batch_writes_follow_the_batches_the_rate_forms() -> None:
    at_1m, at_50m = terms(ONE_M), terms(FIFTY_M)
    # one create request per job whatever the load; execute batches of ~1 at 1M, several at 50M
    assert at_1m["lambdaRequests"].usd_per_million_jobs > at_50m["lambdaRequests"].usd_per_million_jobs
    assert at_1m["dynamodbWrites"].usd_per_million_jobs > at_50m["dynamodbWrites"].usd_per_million_jobs
    wru_at_1m = 2 * 3 + 4 + 2 * 1.0  # create 2 x 3, 4 per record, 2 per execute batch of ~1
    assert at_1m["dynamodbWrites"].usd_per_million_jobs == pytest.approx(
        wru_at_1m * cost_model.price("dynamodbPerMillionWriteRequestUnits"), rel=0.03
    )
    assert at_1m["eventBridge"].usd_per_million_jobs == pytest.approx(5 * 1.0)


def test_the_total_per_job_falls_with_the_load() -> None:
    totals = [cost_at_load.cost_at_load(profile(), jobs, inventory(), FIXED).total for jobs in (ONE_M, TEN_M, FIFTY_M)]
    assert totals[0] > totals[1] > totals[2]


# --- measuring: per batch and per record -------------------------------------------------------------------
def test_fit_splits_a_cost_into_per_invocation_and_per_record() -> None:
    points = [(10, 2 + 10 * 0.5)] * 5 + [(1, 2 + 0.5)] * 10
    assert cost_at_load.fit(points) == pytest.approx((2.0, 0.5))
    assert cost_at_load.fit([(10, 5.0), (1, 1.0)]) == pytest.approx((1 - 4 / 9, 4 / 9))
    assert cost_at_load.fit([(0, 0.2), (0, 0.4)]) == pytest.approx((0.3, 0.0))  # API: per request
    assert cost_at_load.fit([(10, 3.0)], fallback_intercept=1.0) == pytest.approx((1.0, 0.2))
    assert cost_at_load.fit([(10, 1.0), (1, 2.0)]) == pytest.approx((1.5, 0.0))  # never negative


# --- what the stack deploys ------------------------------------------------------------------------------
def template() -> dict[str, Any]:
    queue = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "AgentJobs-execute"}}
    return {
        "Resources": {
            "Q": queue,
            "Esm": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "EventSourceArn": {"Fn::GetAtt": ["Q", "Arn"]},
                    "FunctionName": {"Ref": "Fn"},
                    "BatchSize": 10,
                    "MaximumBatchingWindowInSeconds": 2,
                    "ScalingConfig": {"MaximumConcurrency": 5},
                },
            },
            "StreamEsm": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {"EventSourceArn": {"Fn::GetAtt": ["T", "StreamArn"]}, "FunctionName": {"Ref": "E"}},
            },
            "A1": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "Errors"}},
            "A2": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {"Metrics": [{"Id": "e", "Expression": "a/b"}, {"MetricStat": {}}, {"MetricStat": {}}]},
            },
            "T": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "SSESpecification": {"SSEEnabled": True},
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                },
            },
            "R": {"Type": "AWS::Events::Rule", "Properties": {"ScheduleExpression": "rate(1 minute)"}},
        }
    }


def test_the_inventory_reads_mappings_alarms_and_the_schedule_from_the_template() -> None:
    found = from_template(template(), "test")
    assert found.queue_mappings == [QueueMapping("execute", "Fn", 10, 5, 2.0)]
    assert found.stream_mappings == 1
    assert (found.alarms, found.alarm_metrics) == (2, 3)
    assert found.tables_encrypted_with_aws_managed_key == found.tables_with_pitr == 1
    assert found.schedule_runs_per_month(load_model.SECONDS_PER_MONTH) == pytest.approx(730 * 60)
