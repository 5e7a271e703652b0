"""The one Lambda harness (``local.lambda_runtime``) that the local stack, these tests and ``bench/`` share: an
SQS poll hands the consumer Lambda's event and a fresh context, deletes what succeeded and returns what failed."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from local import lambda_runtime
from local.provision import function_name


def test_a_poll_deletes_what_succeeded_and_makes_what_failed_visible_again_at_once(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="harness")["QueueUrl"]
    for n in range(3):
        sqs.send_message(
            QueueUrl=url,
            MessageBody=json.dumps({"n": n}),
            MessageAttributes={"waits": {"DataType": "Number", "StringValue": str(n)}},
        )
    seen: list[tuple[dict[str, Any], Any]] = []

    def consumer(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append((event, context))
        failed = [r["messageId"] for r in event["Records"] if json.loads(r["body"])["n"] == 1]
        return {"batchItemFailures": [{"itemIdentifier": ident} for ident in failed]}

    monkeypatch.setattr(lambda_runtime, "load", lambda name: consumer)
    assert lambda_runtime.poll_queue(sqs, url, "execute_job") == 3
    assert lambda_runtime.poll_queue(sqs, url, "execute_job") == 1  # only the failed one is back, at once
    assert lambda_runtime.poll_queue(sqs, url, "execute_job") == 1
    (first, context), (second, again) = seen[:2]
    record = first["Records"][0]
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:harness"
    assert record["messageAttributes"]["waits"]["stringValue"] == "0"
    assert int(record["attributes"]["ApproximateReceiveCount"]) == 1
    assert [json.loads(r["body"])["n"] for r in second["Records"]] == [1]
    assert context.aws_request_id != again.aws_request_id  # every invocation has its own request id
    assert context.function_name == function_name("execute_job")
    assert 0 < context.get_remaining_time_in_millis() <= 900_000
