"""Reports a Step Functions task's outcome for a message that carried a task token.

A throttled or failing Step Functions call is tried again a few times; if it still fails the caller gets
:class:`CallbackUndelivered` and decides what keeps the outcome (a checkpoint decision stays "decided,
not delivered" until a retry or the sweeper delivers it)."""

from __future__ import annotations

import json
import time
from typing import Any

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from agent_jobs.integrations.aws import client
from agent_jobs.observability import logger

TRIES = 4
BACKOFF_SECONDS = 0.1  # doubled after each failed try: 0.1 + 0.2 + 0.4 s at most between the four
_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "InternalServerError",
        "InternalFailure",
    }
)


class CallbackUndelivered(Exception):
    """Step Functions did not take the outcome after every try (throttled, 5xx, unreachable)."""


def report_success(token: str | None, output: dict[str, Any]) -> None:
    if token:
        _call("send_task_success", taskToken=token, output=json.dumps(output))


def report_failure(token: str | None, error: str, cause: str) -> None:
    if token:
        _call("send_task_failure", taskToken=token, error=error[:256], cause=cause[:32768])


def stop_execution(execution_arn: str, error: str, cause: str) -> bool:
    """Stops a running execution (a cancelled job's). True when it is stopped or was not running any more;
    False when Step Functions could not be told (the job's steps still refuse to run: see ``current_job``)."""
    sfn = client("stepfunctions")
    try:
        _call("stop_execution", executionArn=execution_arn, error=error[:256], cause=cause[:32768])
    except sfn.exceptions.ExecutionDoesNotExist:
        return True  # never started (still queued for its start) or already gone
    except CallbackUndelivered:
        return False
    except Exception:
        logger.exception("stopping the execution failed", extra={"execution_arn": execution_arn})
        return False
    return True


def transient(exc: Exception) -> bool:
    """A failure worth another try: throttling, a 5xx, or no connection."""
    if isinstance(exc, ConnectionError | HTTPClientError):
        return True
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return code in _TRANSIENT_CODES or status >= 500
    return False


def _call(operation: str, **kwargs: Any) -> None:
    sfn = client("stepfunctions")
    for tried in range(1, TRIES + 1):
        try:
            getattr(sfn, operation)(**kwargs)
            return
        except (sfn.exceptions.TaskTimedOut, sfn.exceptions.InvalidToken, sfn.exceptions.TaskDoesNotExist):
            # The workflow already moved on (timed out or stopped): nothing is waiting for this answer.
            logger.warning("task token no longer valid", extra={"operation": operation})
            return
        except Exception as exc:
            if not transient(exc):
                raise
            if tried == TRIES:
                raise CallbackUndelivered(f"Step Functions {operation} failed {TRIES} times: {exc}") from exc
            logger.warning("Step Functions call failed, trying again", extra={"operation": operation, "try": tried})
            time.sleep(BACKOFF_SECONDS * 2 ** (tried - 1))
