"""Hands jobs to the next step: SQS messages for queue work, Step Functions for jobs with checkpoints."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from agent_jobs.domain.policies import CheckpointPolicy, policy_for
from agent_jobs.integrations.aws import client
from agent_jobs.models.jobs import Job
from agent_jobs.observability import logger
from agent_jobs.settings import Settings, get_settings
from agent_jobs.workflow.definition import execution_input, execution_name

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
        """Starts the job's current attempt: a workflow when its type has checkpoints, else a queue message."""
        policy: CheckpointPolicy = policy_for(job.job_type)
        if policy.needs_workflow:
            self.start_workflow(job, policy)
        else:
            self.send(self.execute_queue_url(job), {"kind": "execute", "jobId": job.id, "attempt": job.attempt})

    def start_workflow(self, job: Job, policy: CheckpointPolicy) -> None:
        """Starts the attempt's execution. Idempotent: the name is the job and attempt, and the input is
        the same every time, so a repeated start (a retry, the sweeper's restart) never runs it twice."""
        sfn = client("stepfunctions")
        request = {
            "stateMachineArn": self.settings.checkpoint_state_machine_arn,
            "name": execution_name(job.id, job.attempt),
            "input": json.dumps(execution_input(job, policy, self.settings, self.execute_queue_url(job))),
        }
        try:
            with_backoff(lambda: sfn.start_execution(**request), "StartExecution")
        except sfn.exceptions.ExecutionAlreadyExists:
            logger.info("the attempt's execution already exists", extra={"job_id": job.id, "attempt": job.attempt})

    def request_assignment(self, job: Job) -> None:
        """Auto-assign in the background; the job's version lets a message that outlived a change be dropped."""
        self.send(self.settings.validate_queue_url, {"kind": "assign", "jobId": job.id, "version": job.version})

    def request_validation(self, job: Job, task_token: str | None = None) -> None:
        body: dict[str, Any] = {"kind": "validate", "jobId": job.id, "attempt": job.attempt}
        if task_token:
            body["taskToken"] = task_token
        self.send(self.settings.validate_queue_url, body)

    def send(self, queue_url: str, body: dict[str, Any]) -> None:
        text = json.dumps(body, separators=(",", ":"))
        with_backoff(lambda: client("sqs").send_message(QueueUrl=queue_url, MessageBody=text), "SendMessage")
