"""What one handler invocation writes (issue 13 item 3): log lines with the request id and not the Lambda context
(unless ``LOG_LAMBDA_CONTEXT`` asks)."""

from __future__ import annotations

import importlib
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.logging import correlation_paths

from agent_jobs.catalog import LOG_LAMBDA_CONTEXT_ENV
from agent_jobs.observability import invocation, logger
from local.functions import LocalContext

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
    record = {
        "messageId": "m-1",
        "receiptHandle": "r-1",
        "body": "not a step message",
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:agent-jobs-execute",
        "awsRegion": "us-east-1",
    }
    handler({"Records": [record]}, context)
    lines = read(log_stream)
    assert lines and all(line["function_request_id"] == context.aws_request_id for line in lines)
    assert all(not LAMBDA_CONTEXT_KEYS & set(line) for line in lines), lines
