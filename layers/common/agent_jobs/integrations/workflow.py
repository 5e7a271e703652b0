"""Reports a Step Functions task's outcome for a message that carried a task token."""

from __future__ import annotations

import json
from typing import Any

from agent_jobs.integrations.aws import client
from agent_jobs.observability import logger


def report_success(token: str | None, output: dict[str, Any]) -> None:
    if token:
        _call("send_task_success", taskToken=token, output=json.dumps(output))


def report_failure(token: str | None, error: str, cause: str) -> None:
    if token:
        _call("send_task_failure", taskToken=token, error=error[:256], cause=cause[:32768])


def _call(operation: str, **kwargs: Any) -> None:
    sfn = client("stepfunctions")
    try:
        getattr(sfn, operation)(**kwargs)
    except (sfn.exceptions.TaskTimedOut, sfn.exceptions.InvalidToken, sfn.exceptions.TaskDoesNotExist):
        # The workflow already moved on (timed out or stopped): nothing is waiting for this answer.
        logger.warning("task token no longer valid", extra={"operation": operation})
