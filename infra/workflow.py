"""The checkpoint wait: a small Standard state machine, one short execution per human wait (DESIGN §3, §11).

Its one task sends the checkpoint message (SQS, with a task token) and waits for the decision; on timeout it
sends the expiry notice. A job's execute and validate steps never run in Step Functions."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import constants as c
from infra.config import StackConfig
from infra.nag import IAM5_ANY_RESOURCE, acknowledge
from infra.queues import Queues


class Workflow(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, queues: Queues, config: StackConfig) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        # /aws/vendedlogs/ keeps CloudWatch Logs' resource policy small (AWS guidance for Step Functions).
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/vendedlogs/states/{stack.stack_name}-checkpoint-wait",
            retention=config.log_retention,
            removal_policy=config.removal_policy,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "CheckpointWait",
            comment="One human-approval wait of a job: the checkpoint message with a task token, then the decision",
            definition_body=sfn.DefinitionBody.from_string(c.ASL_FILE.read_text()),
            state_machine_type=sfn.StateMachineType.STANDARD,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self.log_group,
                level=sfn.LogLevel.ALL,
                # Execution data holds the task tokens (secrets per DESIGN §7): keep it out of the logs.
                include_execution_data=False,
            ),
        )
        # The SQS tasks take QueueUrl from the execution input, so nothing is inferred from the ASL:
        # SendMessage on exactly the queue the definition's path names (the checkpoint queue).
        for key in c.WORKFLOW_QUEUE_KEYS:
            queues[key].queue.grant(self.state_machine, "sqs:SendMessage")
        acknowledge(
            self.state_machine.role,
            IAM5_ANY_RESOURCE,
            "Added by CDK for logging and tracing: the CloudWatch Logs delivery actions "
            "(logs:CreateLogDelivery, GetLogDelivery, ...) and X-Ray's PutTraceSegments/GetSampling* "
            "do not support resource-level permissions, so AWS requires Resource '*'.",
        )
