"""Hands jobs to the next step: SQS messages for queue work, Step Functions for jobs with checkpoints."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from agent_jobs.domain.policies import CheckpointPolicy, policy_for
from agent_jobs.integrations.aws import client
from agent_jobs.models.jobs import Job
from agent_jobs.settings import Settings, get_settings
from agent_jobs.workflow.definition import execution_input, execution_name


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
        sfn = client("stepfunctions")
        with contextlib.suppress(sfn.exceptions.ExecutionAlreadyExists):  # a repeated start is harmless
            sfn.start_execution(
                stateMachineArn=self.settings.checkpoint_state_machine_arn,
                name=execution_name(job.id, job.attempt),
                input=json.dumps(execution_input(job, policy, self.settings, self.execute_queue_url(job))),
            )

    def request_assignment(self, job: Job) -> None:
        self.send(self.settings.validate_queue_url, {"kind": "assign", "jobId": job.id})

    def request_validation(self, job: Job, task_token: str | None = None) -> None:
        body: dict[str, Any] = {"kind": "validate", "jobId": job.id, "attempt": job.attempt}
        if task_token:
            body["taskToken"] = task_token
        self.send(self.settings.validate_queue_url, body)

    def send(self, queue_url: str, body: dict[str, Any]) -> None:
        client("sqs").send_message(QueueUrl=queue_url, MessageBody=json.dumps(body, separators=(",", ":")))
