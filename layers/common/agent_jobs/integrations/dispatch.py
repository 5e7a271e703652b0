"""Hands jobs to the next step: SQS messages for queue work, one short Step Functions execution per human wait."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from agent_jobs.integrations.aws import client
from agent_jobs.models.jobs import Job
from agent_jobs.observability import logger
from agent_jobs.settings import Settings, get_settings
from agent_jobs.workflow.definition import execution_name, wait_input

T = TypeVar("T")
TRIES = 4  # on top of botocore's own retries: a throttled start must not strand a job that is already IN_PROGRESS
BACKOFF_SECONDS = 0.2
TRANSIENT_ERRORS = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "RequestThrottled",
        "TooManyRequestsException",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalServerError",
        "KMSThrottlingException",
    }
)


def transient(exc: Exception) -> bool:
    """A throttle, a 5xx or a dropped connection: worth another try."""
    if isinstance(exc, BotoConnectionError):
        return True
    if not isinstance(exc, ClientError):
        return False
    error = exc.response.get("Error", {})
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return error.get("Code") in TRANSIENT_ERRORS or status >= 500


def with_backoff(call: Callable[[], T], what: str) -> T:
    """``call()``, tried again with jittered exponential backoff while it fails transiently."""
    for attempt in range(1, TRIES + 1):
        try:
            return call()
        except Exception as exc:
            if attempt == TRIES or not transient(exc):
                raise
            logger.warning(f"{what} failed transiently; trying again", extra={"attempt": attempt, "error": str(exc)})
            time.sleep(random.uniform(0, BACKOFF_SECONDS * 2**attempt))  # noqa: S311 - jitter, not a secret
    raise AssertionError("unreachable")


class Dispatcher:
    """Every message a job's life sends goes through here (one place to count and to fake)."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()

    def execute_queue_url(self, job: Job) -> str:
        high = job.priority >= self.settings.high_priority_threshold
        return self.settings.execute_high_queue_url if high else self.settings.execute_queue_url

    def start(self, job: Job) -> None:
        """Starts the job's current attempt: its execute message (a job with checkpoints too: its steps ride the
        queues; only its human waits run in Step Functions, see :meth:`start_checkpoint_wait`)."""
        self.send(self.execute_queue_url(job), {"kind": "execute", "jobId": job.id, "attempt": job.attempt})

    def start_checkpoint_wait(self, job: Job, stage: str) -> None:
        """Starts the wait of the job's attempt at ``stage``: one short execution that raises the checkpoint and
        waits for its decision. Idempotent: the name is job, attempt and stage and the input is the same every
        time, so a repeated start (a redelivered message, a retried decision) is refused, not run twice."""
        sfn = client("stepfunctions")
        request = {
            "stateMachineArn": self.settings.checkpoint_state_machine_arn,
            "name": execution_name(job.id, job.attempt, stage),
            "input": json.dumps(wait_input(job, stage, self.settings)),
        }
        try:
            with_backoff(lambda: sfn.start_execution(**request), "StartExecution")
        except sfn.exceptions.ExecutionAlreadyExists:
            logger.info("the checkpoint's wait already exists", extra={"job_id": job.id, "stage": stage})

    def request_assignment(self, job: Job) -> None:
        """Auto-assign in the background; the job's version lets a message that outlived a change be dropped."""
        self.send(self.settings.validate_queue_url, {"kind": "assign", "jobId": job.id, "version": job.version})

    def request_validation(self, job: Job) -> None:
        self.send(self.settings.validate_queue_url, {"kind": "validate", "jobId": job.id, "attempt": job.attempt})

    def send(self, queue_url: str, body: dict[str, Any]) -> None:
        text = json.dumps(body, separators=(",", ":"))
        with_backoff(lambda: client("sqs").send_message(QueueUrl=queue_url, MessageBody=text), "SendMessage")
