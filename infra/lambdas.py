"""The functions of ``agent_jobs.catalog.FUNCTIONS``: one shared layer, one role and log group each,
the queue consumers' event source mappings, and the grants of ``infra/permissions.py``."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from agent_jobs.catalog import EXECUTE_QUEUE_KEYS, FUNCTIONS, QUEUES, STREAMS, TRACE_DISABLED_ENV, FunctionSpec
from infra import constants as c
from infra.bundling import layer_code
from infra.config import StackConfig
from infra.judge_secret import JudgeSecret
from infra.nag import IAM5_ANY_RESOURCE, LAMBDA_RUNTIME, XRAY_REASON, acknowledge
from infra.permissions import ACCESS, FunctionAccess
from infra.queues import Queues
from infra.tables import Tables

RUNTIME_REASON = (
    f"Pinned to {c.RUNTIME.name} on purpose: the tests, the local stack and the layer's compiled "
    f"wheels (cp{c.PYTHON_VERSION.replace('.', '')}) are built for it; moving up is a one-line "
    "change in infra/constants.py once they move together."
)
WORKER_LIST_REASON = (
    "lambda:ListEventSourceMappings (finding the execute function's mappings, the seed-004 "
    "'worker') has no resource-level permissions, so AWS requires Resource '*'; "
    "Get/UpdateEventSourceMapping are limited to the two execute mappings by ARN."
)

STREAM_LIST_REASON = (
    "dynamodb:ListStreams (added by the stream event source mapping's grant) has no resource-level "
    "permissions, so AWS requires Resource '*'; reading the records is limited to the two streams by ARN."
)

EXECUTIONS_REASON = (
    "An execution's ARN is named by the job and attempt at run time (jobId-attempt), so StopExecution is "
    "granted on this state machine's executions (execution:<machine>:*), never on another machine's."
)

# Peek (receive, then make visible again) and replay (delete once re-sent) a DLQ's messages.
DEAD_LETTER_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
)


def function_id(name: str) -> str:
    """``create_job`` -> ``CreateJob`` (the construct id; the role is ``CreateJobRole``)."""
    return "".join(part.title() for part in name.split("_"))


class Lambdas(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StackConfig,
        tables: Tables,
        queues: Queues,
        state_machine: sfn.IStateMachine,
        judge_secret: JudgeSecret,
    ) -> None:
        super().__init__(scope, construct_id)
        self.layer = lambda_.LayerVersion(
            self,
            "CommonLayer",
            code=layer_code(),
            compatible_runtimes=[c.RUNTIME],
            compatible_architectures=[c.ARCHITECTURE],
            description="agent_jobs and its pinned dependencies (layers/common)",
        )
        environment = {
            **c.POWERTOOLS_ENV,
            c.ENV_OPENAI_MODEL: config.openai_model,
            c.ENV_STATE_MACHINE_ARN: state_machine.state_machine_arn,
            **tables.environment(),
            **queues.environment(),
        }
        self.functions: dict[str, lambda_.Function] = {}
        self.roles: dict[str, iam.Role] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}
        for function_spec in FUNCTIONS.values():
            self.functions[function_spec.name] = self._function(function_spec, environment, config)

        # Queue -> consumer, and DLQ -> the same consumer (it fails the job, with a log).
        self.mappings: dict[str, event_sources.SqsEventSource] = {}
        self.dlq_mappings: dict[str, event_sources.SqsEventSource] = {}
        for spec in QUEUES:
            consumer = self.functions[spec.consumer]
            deployed = queues[spec.key]
            self.mappings[spec.key] = event_sources.SqsEventSource(
                deployed.queue,
                batch_size=spec.batch_size,
                report_batch_item_failures=True,
                max_concurrency=spec.max_concurrency,
                max_batching_window=Duration.seconds(spec.max_batching_window_seconds)
                if spec.max_batching_window_seconds
                else None,
            )
            consumer.add_event_source(self.mappings[spec.key])
            self.dlq_mappings[spec.key] = event_sources.SqsEventSource(
                deployed.dlq,
                batch_size=c.ESM_DLQ_BATCH_SIZE,
                report_batch_item_failures=True,
                max_concurrency=c.ESM_DLQ_MAX_CONCURRENCY,
            )
            consumer.add_event_source(self.dlq_mappings[spec.key])

        for name, access in ACCESS.items():
            self._grant(name, access, tables, queues, state_machine, judge_secret)

    def __getitem__(self, name: str) -> lambda_.Function:
        return self.functions[name]

    def _function(self, spec: FunctionSpec, environment: dict[str, str], config: StackConfig) -> lambda_.Function:
        construct_id = function_id(spec.name)
        log_group = logs.LogGroup(
            self, f"{construct_id}Logs", retention=config.log_retention, removal_policy=config.removal_policy
        )
        # Own role, no AWS managed policy: logs go to this function's group only, the rest is granted below.
        role = iam.Role(
            self,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{spec.name}: least privilege (infra/permissions.py)",
        )
        log_group.grant_write(role)
        function = lambda_.Function(
            self,
            construct_id,
            description=spec.description,
            runtime=c.RUNTIME,
            architecture=c.ARCHITECTURE,
            handler=c.HANDLER,
            code=lambda_.Code.from_asset(str(c.FUNCTIONS_DIR / spec.name), exclude=c.ASSET_EXCLUDE),
            layers=[self.layer],
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            tracing=lambda_.Tracing.ACTIVE if spec.traced else lambda_.Tracing.DISABLED,
            role=role,
            log_group=log_group,
            # untraced: Powertools' Tracer is told, or it would look for the segment Lambda only opens when tracing
            environment=dict(environment) if spec.traced else {**environment, TRACE_DISABLED_ENV: "true"},
        )
        acknowledge(function, LAMBDA_RUNTIME, RUNTIME_REASON)
        self.roles[spec.name] = role
        self.log_groups[spec.name] = log_group
        return function

    def _grant(
        self,
        name: str,
        access: FunctionAccess,
        tables: Tables,
        queues: Queues,
        state_machine: sfn.IStateMachine,
        judge_secret: JudgeSecret,
    ) -> None:
        function = self.functions[name]
        tables.grant(function, read=access.read_tables, write=access.write_tables)
        for key in access.send_to:
            queues[key].queue.grant_send_messages(function)
        for key in access.queue_attributes:
            queues[key].queue.grant(function, "sqs:GetQueueAttributes")
            queues[key].dlq.grant(function, "sqs:GetQueueAttributes")
        for key in access.replays_dead_letters:
            queues[key].dlq.grant(function, *DEAD_LETTER_ACTIONS)
            queues[key].queue.grant_send_messages(function)
        if access.state_machine_actions:
            state_machine.grant(function, *access.state_machine_actions)
        if access.execution_actions:
            state_machine.grant_execution(function, *access.execution_actions)
            executions = (
                "arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"
                '{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"'
                + Stack.of(self).resolve(Stack.of(self).get_logical_id(state_machine.node.default_child))  # type: ignore[arg-type]
                + '"}]}]}:*'
            )
            acknowledge(self.roles[name], f"AwsSolutions-IAM5[Resource::{executions}]", EXECUTIONS_REASON)
        if access.reads_openai_secret:
            judge_secret.grant_read(function)
            for key, value in judge_secret.environment().items():
                function.add_environment(key, value)
        reasons = [XRAY_REASON] if FUNCTIONS[name].traced else []
        if any(spec.consumer == name for spec in STREAMS):
            reasons.append(STREAM_LIST_REASON)
        if access.controls_execute_workers:
            execute = self.functions[queues[EXECUTE_QUEUE_KEYS[0]].spec.consumer]
            function.add_environment(c.ENV_EXECUTE_FUNCTION_NAME, execute.function_name)
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping"],
                    resources=[self.mappings[key].event_source_mapping_arn for key in EXECUTE_QUEUE_KEYS],
                )
            )
            function.add_to_role_policy(
                iam.PolicyStatement(actions=["lambda:ListEventSourceMappings"], resources=["*"])
            )
            reasons.append(WORKER_LIST_REASON)
        if reasons:
            acknowledge(self.roles[name], IAM5_ANY_RESOURCE, " ".join(reasons))
