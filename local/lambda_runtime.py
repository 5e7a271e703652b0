"""The one Lambda harness: ``functions.<name>.handler.handler(event, context)`` called in-process as Lambda calls
it, with a context like Lambda's (name, memory, a fresh request id, the remaining time from the catalog's
timeout), the events Lambda builds (API Gateway HTTP API payload 2.0, SQS batches, DynamoDB stream batches),
and an SQS event source mapping's poll (receive, invoke, delete what succeeded by Lambda's
``ReportBatchItemFailures`` rules). The local stack (``local/``), the integration tests and ``bench/`` all run
handlers through this module, so the three cannot drift apart in what they hand a function.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import importlib.util
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from agent_jobs.catalog import FUNCTIONS, Route
from local.config import REGION
from local.provision import function_name

Handler = Callable[[dict[str, Any], Any], Any]
ACCOUNT_ID = "123456789012"


class FunctionUnavailable(RuntimeError):
    """The function's handler module is missing (not written yet) or fails to import."""


class LocalContext:
    """The attributes and method of Lambda's context object that handlers and Powertools read."""

    def __init__(self, name: str, *, remaining_millis: int | None = None) -> None:
        """``remaining_millis``: the time left at the start (default: the catalog's timeout for ``name``)."""
        spec = FUNCTIONS[name]
        self.function_name = function_name(name)
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = f"local/{self.aws_request_id}"
        self.identity = None
        self.client_context = None
        left = spec.timeout_seconds if remaining_millis is None else remaining_millis / 1000
        self._deadline = time.monotonic() + left

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def module_name(name: str) -> str:
    return f"functions.{name}.handler"


def available(name: str) -> bool:
    """True when ``functions/<name>/handler.py`` exists (whether it imports is found out on first call)."""
    try:
        return importlib.util.find_spec(module_name(name)) is not None
    except (ImportError, ValueError):
        return False


def load(name: str) -> Handler:
    if name not in FUNCTIONS:
        raise FunctionUnavailable(f"{name} is not in catalog.FUNCTIONS")
    try:
        module = importlib.import_module(module_name(name))
    except ModuleNotFoundError as exc:
        if exc.name and module_name(name).startswith(exc.name):
            raise FunctionUnavailable(f"{module_name(name)} does not exist yet") from None
        raise FunctionUnavailable(f"{module_name(name)} fails to import: {exc}") from exc
    except Exception as exc:  # a broken module is the function's init error, as on Lambda
        raise FunctionUnavailable(f"{module_name(name)} fails to import: {exc!r}") from exc
    handler: Handler | None = getattr(module, "handler", None)
    if handler is None:
        raise FunctionUnavailable(f"{module_name(name)} has no handler(event, context)")
    return handler


def invoke(name: str, event: dict[str, Any]) -> Any:
    """One synchronous invocation; the handler's exceptions propagate (the caller plays Lambda's part)."""
    return load(name)(event, LocalContext(name))


def preload() -> None:
    """Imports every existing handler module now (startup), so the first request does not pay for it."""
    for name in FUNCTIONS:
        if available(name):
            with contextlib.suppress(FunctionUnavailable):
                load(name)


# --- the events Lambda builds ---------------------------------------------------------------------------------
def http_event(
    route: Route,
    path: str,
    path_params: dict[str, str],
    *,
    body: bytes | str | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    claims: dict[str, Any] | None = None,
    source_ip: str = "127.0.0.1",
    raw_query: str | None = None,
    scopes: list[str] | None = None,
) -> dict[str, Any]:
    """``raw_query`` keeps a request's query string as sent (default: ``query`` encoded); ``scopes`` are an
    access token's scopes, as the JWT authorizer passes them."""
    raw_body = body.encode() if isinstance(body, str) else body
    is_text = True
    text: str | None = None
    if raw_body is not None:
        try:
            text = raw_body.decode()
        except UnicodeDecodeError:
            is_text = False
            text = base64.b64encode(raw_body).decode()
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    lowered.setdefault("content-type", "application/json")
    now = time.time()
    context: dict[str, Any] = {
        "accountId": "000000000000",
        "apiId": "local",
        "domainName": "localhost",
        "http": {
            "method": route.method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": lowered.get("user-agent", ""),
        },
        "requestId": uuid.uuid4().hex,
        "routeKey": f"{route.method} {route.path}",
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": scopes}}
    return {
        "version": "2.0",
        "routeKey": f"{route.method} {route.path}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}) if raw_query is None else raw_query,
        "headers": lowered,
        "queryStringParameters": query or None,
        "pathParameters": path_params or None,
        "requestContext": context,
        "body": text,
        "isBase64Encoded": not is_text,
    }


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda hands a consumer for a batch received from ``queue_arn``."""
    records = []
    for message in messages:
        attributes = {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value.get("DataType"),
            }
            for name, value in (message.get("MessageAttributes") or {}).items()
        }
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": dict(message.get("Attributes") or {}),
                "messageAttributes": attributes,
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


def failed_ids(result: Any, batch_ids: set[str], report_failures: bool) -> set[str]:
    """Which messages stay on the queue, by Lambda's rules for ``ReportBatchItemFailures``."""
    if not report_failures or not isinstance(result, dict) or result.get("batchItemFailures") is None:
        return set()
    failures = result["batchItemFailures"]
    if not isinstance(failures, list):
        return set(batch_ids)
    ids = {item.get("itemIdentifier") if isinstance(item, dict) else None for item in failures}
    if any(not isinstance(ident, str) or ident not in batch_ids for ident in ids):
        return set(batch_ids)  # an empty or unknown identifier fails the whole batch, as on AWS
    return {str(ident) for ident in ids}


def stream_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The event Lambda hands a stream consumer (our bookkeeping key removed)."""
    return {"Records": [{k: v for k, v in record.items() if k != "shardId"} for record in records]}


def handled_prefix(records: list[dict[str, Any]], result: Any) -> list[dict[str, Any]]:
    """The records before the first reported failure (all of them when none is reported)."""
    failures = result.get("batchItemFailures") if isinstance(result, dict) else None
    if not failures:
        return records
    failed = {item.get("itemIdentifier") for item in failures if isinstance(item, dict)}
    for index, record in enumerate(records):
        if record["dynamodb"]["SequenceNumber"] in failed:
            return records[:index]
    return []  # an identifier that is no record of the batch: the whole batch is retried, as on AWS


# --- an SQS event source mapping's poll ----------------------------------------------------------------------
def receive_batch(sqs: Any, queue_url: str, max_messages: int = 10, wait_seconds: int = 0) -> list[dict[str, Any]]:
    """The receive of one poll, with every system and message attribute (Lambda hands the consumer both)."""
    messages: list[dict[str, Any]] = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=max_messages,
        WaitTimeSeconds=wait_seconds,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", [])
    return messages


def settle_batch(
    sqs: Any, queue_url: str, messages: list[dict[str, Any]], failed: set[str], *, retry_now: bool
) -> None:
    """The end of a poll: what succeeded is deleted (one DeleteMessageBatch). What failed stays for its visibility
    timeout, as on AWS, or with ``retry_now`` (tests and benchmarks, which do not wait) is visible again at once."""
    done = [m for m in messages if m["MessageId"] not in failed]
    if done:
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
    if retry_now:
        for message in messages:
            if message["MessageId"] in failed:
                sqs.change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )


def queue_arn(queue_url: str, region: str) -> str:
    return f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{queue_url.rstrip('/').rsplit('/', 1)[-1]}"


def poll_queue(
    sqs: Any,
    queue_url: str,
    function: str,
    *,
    region: str = REGION,
    max_messages: int = 10,
    context: Any = None,
) -> int:
    """One poll of ``function``'s mapping on ``queue_url``, failed messages visible again at once: receive a batch,
    invoke the consumer (``context``: default a fresh :class:`LocalContext`), settle. Returns the batch's size
    (0: the queue was empty). The handler's exceptions propagate."""
    messages = receive_batch(sqs, queue_url, max_messages)
    if not messages:
        return 0
    result = load(function)(
        sqs_event(messages, queue_arn(queue_url, region), region), context or LocalContext(function)
    )
    settle_batch(sqs, queue_url, messages, failed_ids(result, {m["MessageId"] for m in messages}, True), retry_now=True)
    return len(messages)
