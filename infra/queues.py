"""SQS queues from ``agent_jobs.catalog.QUEUES``: each with its DLQ, SSL only, SQS-managed encryption."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from agent_jobs.catalog import DLQ_SUFFIX, FUNCTIONS, QUEUES, QueueSpec
from infra import constants as c


@dataclass(frozen=True)
class DeployedQueue:
    spec: QueueSpec
    queue: sqs.Queue
    dlq: sqs.Queue

    @property
    def env_name(self) -> str:
        return c.env_name(self.spec.setting)


def construct_id(key: str) -> str:
    """``execute-high`` -> ``ExecuteHigh``."""
    return "".join(part.title() for part in key.split("-"))


def visibility_timeout(spec: QueueSpec) -> cdk.Duration:
    """6x the consumer's timeout (AWS guidance for Lambda event sources): a message is not redelivered
    while a (retried) invocation may still be working on it."""
    return cdk.Duration.seconds(FUNCTIONS[spec.consumer].timeout_seconds * c.VISIBILITY_TIMEOUT_FACTOR)


class Queues(Construct):
    def __init__(self, scope: Construct, construct_id_: str) -> None:
        super().__init__(scope, construct_id_)
        self.by_key: dict[str, DeployedQueue] = {}
        stack_name = cdk.Stack.of(self).stack_name
        for spec in QUEUES:
            name = construct_id(spec.key)
            # Explicit names: the code recognises a DLQ (and finds it from its queue) by the "-dlq" suffix.
            # The DLQ is drained by the same consumer (it fails the job), so it gets the same timeout.
            dlq = sqs.Queue(
                self,
                f"{name}Dlq",
                queue_name=f"{stack_name}-{spec.key}{DLQ_SUFFIX}",
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                visibility_timeout=visibility_timeout(spec),
                retention_period=cdk.Duration.days(c.DLQ_RETENTION_DAYS),
            )
            queue = sqs.Queue(
                self,
                name,
                queue_name=f"{stack_name}-{spec.key}",
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                visibility_timeout=visibility_timeout(spec),
                retention_period=cdk.Duration.days(c.QUEUE_RETENTION_DAYS),
                dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=spec.max_receive_count),
            )
            self.by_key[spec.key] = DeployedQueue(spec, queue, dlq)

    def __getitem__(self, key: str) -> DeployedQueue:
        return self.by_key[key]

    @property
    def deployed(self) -> tuple[DeployedQueue, ...]:
        return tuple(self.by_key.values())

    def environment(self) -> dict[str, str]:
        return {deployed.env_name: deployed.queue.queue_url for deployed in self.by_key.values()}
