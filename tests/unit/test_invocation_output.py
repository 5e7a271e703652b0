"""What one handler invocation writes (issue 13 item 3): log lines with the request id and not the Lambda context
(unless ``LOG_LAMBDA_CONTEXT`` asks), and its metric events as one EMF document per dimension group, written at
the end of the invocation, even when the handler raises."""

from __future__ import annotations

import asyncio
import importlib
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, EventType, async_process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from agent_jobs.catalog import LOG_LAMBDA_CONTEXT_ENV
from agent_jobs.domain import events
from agent_jobs.metrics_catalog import NAMESPACE, emit
from agent_jobs.observability import invocation, logger
from local.lambda_runtime import LocalContext
from tests.unit.test_metrics_emitted import SQS_RECORD_WITHOUT_A_MESSAGE

LAMBDA_CONTEXT_KEYS = {"cold_start", "function_name", "function_memory_size", "function_arn", "xray_trace_id"}
TRACE_HEADER = "Root=1-6740e0d1-3c9a4e1b2f6d7a8b9c0d1e2f;Parent=53995c3f42cd8ad8;Sampled=0"


@pytest.fixture
def log_stream(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The shared logger's output at INFO (Powertools' handler keeps the stream it was made with)."""
    monkeypatch.setenv("_X_AMZN_TRACE_ID", TRACE_HEADER)  # as on Lambda, traced or not
    stream = io.StringIO()
    handler = logger.registered_handler
    previous_stream, previous_level = handler.setStream(stream), logger.log_level
    logger.setLevel("INFO")
    try:
        yield stream
    finally:
        handler.setStream(previous_stream)  # type: ignore[arg-type]
        logger.setLevel(previous_level)
        logger.clear_state()


def read(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def http_event() -> dict[str, Any]:
    return {"requestContext": {"requestId": "api-request-1", "http": {"method": "GET", "path": "/x"}}}


@invocation(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
def talking_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger.info("hello")
    return {"ok": True}


def test_an_info_line_carries_the_request_id_and_not_the_lambda_context(log_stream: io.StringIO) -> None:
    context = LocalContext("create_job")
    talking_handler(http_event(), context)
    (line,) = read(log_stream)
    assert line["message"] == "hello" and line["level"] == "INFO"
    assert line["function_request_id"] == context.aws_request_id
    assert line["correlation_id"] == "api-request-1"
    assert not LAMBDA_CONTEXT_KEYS & set(line), line


def test_the_lambda_context_comes_back_when_asked(log_stream: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOG_LAMBDA_CONTEXT_ENV, "true")
    context = LocalContext("create_job")
    talking_handler(http_event(), context)
    (line,) = read(log_stream)
    assert set(line) >= LAMBDA_CONTEXT_KEYS, line
    assert line["function_arn"] == context.invoked_function_arn
    assert line["function_memory_size"] == context.memory_limit_in_mb
    assert line["function_request_id"] == context.aws_request_id
    assert line["xray_trace_id"] == "1-6740e0d1-3c9a4e1b2f6d7a8b9c0d1e2f"
    assert isinstance(line["cold_start"], bool)


def test_clear_state_drops_the_previous_invocations_keys(log_stream: io.StringIO) -> None:
    logger.append_keys(job_id="from-the-last-invocation")
    talking_handler(http_event(), LocalContext("create_job"))
    (line,) = read(log_stream)
    assert "job_id" not in line


def test_a_real_handlers_line_has_no_lambda_context(log_stream: io.StringIO) -> None:
    """execute_job refuses an unreadable message with an ERROR line, before any AWS call."""
    handler = importlib.import_module("functions.execute_job.handler").handler
    context = LocalContext("execute_job")
    handler({"Records": [SQS_RECORD_WITHOUT_A_MESSAGE]}, context)
    lines = read(log_stream)
    assert lines and all(line["function_request_id"] == context.aws_request_id for line in lines)
    assert all(not LAMBDA_CONTEXT_KEYS & set(line) for line in lines), lines


# --- metrics: one EMF document per group ------------------------------------------------------------------


def documents(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{") and '"_aws"' in line]


def cloudwatch_reads(document: dict[str, Any]) -> list[tuple[str, str, tuple[tuple[str, str], ...], float]]:
    """What CloudWatch extracts from one EMF document: (metric, unit, dimensions, value) per value and set."""
    found = []
    for directive in document["_aws"]["CloudWatchMetrics"]:
        assert directive["Namespace"] == NAMESPACE
        for metric in directive["Metrics"]:
            values = document[metric["Name"]]
            for dimension_set in directive["Dimensions"]:
                dimensions = tuple((name, document[name]) for name in dimension_set)
                found += [(metric["Name"], metric["Unit"], dimensions, float(v)) for v in values]
    return found


def test_one_invocation_with_the_same_dimensions_writes_one_document(capsys: pytest.CaptureFixture[str]) -> None:
    @invocation
    def handler(event: Any, context: Any) -> None:
        emit("JobsCreated", 1, jobType="simple-task")
        emit("JobsCompleted", 1, jobType="simple-task")
        emit("JobsCompleted", 1, jobType="simple-task")
        emit("AgentCallLatencyMs", 250.5, jobType="simple-task")
        emit("AgentCallLatencyMs", 99, jobType="simple-task")

    capsys.readouterr()
    handler({}, LocalContext("execute_job"))
    (document,) = documents(capsys.readouterr().out)
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [["service", "jobType"], ["service"]]
    assert directive["Metrics"] == [
        {"Name": "JobsCreated", "Unit": "Count"},
        {"Name": "JobsCompleted", "Unit": "Count"},
        {"Name": "AgentCallLatencyMs", "Unit": "Milliseconds"},
    ]
    assert document["service"] == "agent-jobs" and document["jobType"] == "simple-task"
    assert document["JobsCreated"] == [1.0]
    assert document["JobsCompleted"] == [1.0, 1.0]
    assert document["AgentCallLatencyMs"] == [250.5, 99.0]
    assert isinstance(document["_aws"]["Timestamp"], int)

    # the same datapoints as five documents written one by one (outside an invocation)
    for name, value in [
        ("JobsCreated", 1),
        ("JobsCompleted", 1),
        ("JobsCompleted", 1),
        ("AgentCallLatencyMs", 250.5),
        ("AgentCallLatencyMs", 99),
    ]:
        emit(name, value, jobType="simple-task")
    one_by_one = documents(capsys.readouterr().out)
    assert len(one_by_one) == 5
    assert sorted(cloudwatch_reads(document)) == sorted(r for d in one_by_one for r in cloudwatch_reads(d))


def test_different_dimension_values_or_sets_make_separate_documents(capsys: pytest.CaptureFixture[str]) -> None:
    @invocation
    def handler(event: Any, context: Any) -> None:
        emit("JobsCompleted", 1, jobType="simple-task")
        emit("JobsCompleted", 1, jobType="other")
        emit("JobDurationSeconds", 90, jobType="simple-task", status="COMPLETED")
        emit("JobDurationSeconds", 30, jobType="simple-task", status="FAILED")
        emit("JudgeVerdicts", 1, verdict="pass")
        emit("JudgeLatencyMs", 120, task="validate")  # a different dimension name, same shape
        emit("PendingCheckpoints", 3)  # no dimension but service, no roll-up

    capsys.readouterr()
    handler({}, LocalContext("validate"))
    found = documents(capsys.readouterr().out)
    assert len(found) == 7
    shapes = {
        (tuple(m["Name"] for m in d["_aws"]["CloudWatchMetrics"][0]["Metrics"]), d.get("jobType"), d.get("status"))
        for d in found
    }
    assert shapes == {
        (("JobsCompleted",), "simple-task", None),
        (("JobsCompleted",), "other", None),
        (("JobDurationSeconds",), "simple-task", "COMPLETED"),
        (("JobDurationSeconds",), "simple-task", "FAILED"),
        (("JudgeVerdicts",), None, None),
        (("JudgeLatencyMs",), None, None),
        (("PendingCheckpoints",), None, None),
    }
    pending = next(d for d in found if "PendingCheckpoints" in d)
    assert pending["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]


def test_an_exception_in_the_handler_still_writes_its_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    @invocation(clear_state=True)
    def handler(event: Any, context: Any) -> None:
        emit("JobsCreated", 1, jobType="simple-task")
        emit("JobsCreated", 1, jobType="simple-task")
        raise RuntimeError("boom")

    capsys.readouterr()
    with pytest.raises(RuntimeError, match="boom"):
        handler({}, LocalContext("create_job"))
    (document,) = documents(capsys.readouterr().out)
    assert document["JobsCreated"] == [1.0, 1.0]


def test_a_bad_dimension_still_raises_at_the_event(capsys: pytest.CaptureFixture[str]) -> None:
    @invocation
    def handler(event: Any, context: Any) -> None:
        emit("JobsCreated", 1, jobType="simple-task")
        with pytest.raises(ValueError, match="takes dimensions"):
            emit("JobsCreated", 1, agentId="a-1")

    capsys.readouterr()
    handler({}, LocalContext("create_job"))
    (document,) = documents(capsys.readouterr().out)
    assert document["JobsCreated"] == [1.0]


def test_each_invocation_writes_its_own_documents(capsys: pytest.CaptureFixture[str]) -> None:
    @invocation
    def handler(event: Any, context: Any) -> None:
        emit("JobsCreated", 1, jobType="simple-task")

    capsys.readouterr()
    handler({}, LocalContext("create_job"))
    handler({}, LocalContext("create_job"))
    assert [d["JobsCreated"] for d in documents(capsys.readouterr().out)] == [[1.0], [1.0]]


def sqs_record(n: int) -> dict[str, Any]:
    return {
        "messageId": f"m-{n}",
        "receiptHandle": f"r-{n}",
        "body": json.dumps({"n": n}),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:agent-jobs-validate",
        "awsRegion": "us-east-1",
    }


def test_concurrent_batch_records_lose_and_mix_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    """An AsyncBatchProcessor's records, each emitting from the event loop and from a worker thread at once."""
    records = 10

    def in_a_thread(n: int) -> None:
        events.judge_called(
            "validate", latency_ms=float(n), usage={"total_tokens": n}, verdict="pass" if n % 2 else "fail"
        )

    async def record_handler(record: SQSRecord) -> None:
        n = json.loads(record.body)["n"]
        emit("JobsCompleted", 1, jobType="simple-task")
        await asyncio.gather(*(asyncio.to_thread(in_a_thread, n) for _ in range(3)))
        emit("AgentCallLatencyMs", float(n), jobType="simple-task")

    @invocation(clear_state=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        return dict(async_process_partial_response(event, record_handler, processor, context))

    capsys.readouterr()
    answer = handler({"Records": [sqs_record(n) for n in range(records)]}, LocalContext("validate"))
    assert answer == {"batchItemFailures": []}
    found = documents(capsys.readouterr().out)
    by_job_type = [d for d in found if d.get("jobType") == "simple-task"]
    (jobs,) = by_job_type
    assert jobs["JobsCompleted"] == [1.0] * records
    assert sorted(jobs["AgentCallLatencyMs"]) == [float(n) for n in range(records)]
    verdicts = {d["verdict"]: d["JudgeVerdicts"] for d in found if "verdict" in d}
    assert verdicts == {"pass": [1.0] * 15, "fail": [1.0] * 15}
    (latency,) = [d for d in found if "JudgeLatencyMs" in d]
    assert sorted(latency["JudgeLatencyMs"]) == sorted(float(n) for n in range(records) for _ in range(3))
    assert sum(latency["JudgeTokens"]) == 3 * sum(range(records))


def test_the_local_stacks_emf_reader_sends_every_value_of_a_grouped_document(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from local.emf import metric_data

    @invocation
    def handler(event: Any, context: Any) -> None:
        emit("JobsCompleted", 1, jobType="simple-task")
        emit("JobsCompleted", 1, jobType="simple-task")
        emit("AgentCallLatencyMs", 12.5, jobType="simple-task")

    capsys.readouterr()
    handler({}, LocalContext("execute_job"))
    (document,) = documents(capsys.readouterr().out)
    sent = metric_data(document)[NAMESPACE]
    values = {
        (datum["MetricName"], tuple(d["Value"] for d in datum["Dimensions"])): datum.get("Values", [datum.get("Value")])
        for datum in sent
    }
    assert values == {
        ("JobsCompleted", ("agent-jobs", "simple-task")): [1.0, 1.0],
        ("JobsCompleted", ("agent-jobs",)): [1.0, 1.0],
        ("AgentCallLatencyMs", ("agent-jobs", "simple-task")): [12.5],
        ("AgentCallLatencyMs", ("agent-jobs",)): [12.5],
    }
