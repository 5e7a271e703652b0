"""CloudWatch dashboard, alarms and the SNS topic they notify.

The application's own metrics (EMF, namespace ``AgentJobs``) are data: extend ``APP_PANELS`` to add a
dashboard graph and ``APP_ALARMS`` to add an alarm; the AWS resources' graphs and alarms (every DLQ,
every function, the API, the state machine) are generated from the constructs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from agent_jobs.metrics_catalog import BY_NAME, GAUGED_STATUSES, JUDGE_TASKS, VERDICTS
from infra import constants as c
from infra.config import StackConfig
from infra.lambdas import function_id
from infra.queues import Queues, construct_id

# Powertools Metrics adds the `service` dimension to every metric it writes.
SERVICE_DIMENSIONS: Mapping[str, str] = {"service": c.SERVICE_NAME}
WIDGET_WIDTH = 8
WIDGET_HEIGHT = 6
DASHBOARD_WIDTH = 24


@dataclass(frozen=True)
class AppMetric:
    """One metric the functions emit (EMF, namespace AgentJobs)."""

    name: str
    statistic: str = "Sum"
    label: str | None = None
    dimensions: Mapping[str, str] = field(default_factory=lambda: dict(SERVICE_DIMENSIONS))

    def metric(self, period: cdk.Duration) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=c.METRICS_NAMESPACE,
            metric_name=self.name,
            dimensions_map=dict(self.dimensions),
            statistic=self.statistic,
            label=self.label or self.name,
            period=period,
        )


@dataclass(frozen=True)
class Panel:
    """One dashboard graph of application metrics."""

    title: str
    metrics: tuple[AppMetric, ...]
    period_minutes: int = 5


@dataclass(frozen=True)
class AppAlarm:
    """An alarm on application metrics: one metric, or a math ``expression`` over named ones."""

    id: str
    description: str
    metrics: Mapping[str, AppMetric]
    threshold: float
    expression: str | None = None
    label: str | None = None
    period_minutes: int = 5
    evaluation_periods: int = 1
    datapoints_to_alarm: int | None = None
    comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD

    def metric(self) -> cloudwatch.IMetric:
        period = cdk.Duration.minutes(self.period_minutes)
        if self.expression is None:
            (only,) = self.metrics.values()
            return only.metric(period)
        return cloudwatch.MathExpression(
            expression=self.expression,
            using_metrics={key: metric.metric(period) for key, metric in self.metrics.items()},
            label=self.label or self.id,
            period=period,
        )


# --- the application's metrics (DESIGN §8): names and statistics come from agent_jobs.metrics_catalog -------
def app(name: str, statistic: str | None = None, label: str | None = None, **dimensions: str) -> AppMetric:
    """A catalogued metric (a typo fails synth); with no dimensions, the service-wide roll-up."""
    spec = BY_NAME[name]
    return AppMetric(name, statistic or spec.statistic, label, {**SERVICE_DIMENSIONS, **dimensions})


JOBS_COMPLETED = app("JobsCompleted")
JOBS_FAILED = app("JobsFailed")
OLDEST_PENDING_CHECKPOINT = app("OldestPendingCheckpointAgeSeconds")

APP_PANELS: tuple[Panel, ...] = (
    Panel("Throughput (jobs)", (app("JobsCreated", label="created"), app("JobsCompleted", label="completed"))),
    Panel(
        "Outcomes",
        (
            JOBS_COMPLETED,
            JOBS_FAILED,
            app("JobsRejected"),
            app("JobsCancelled"),
            app("JobsResubmissionRequired"),
            app("JobsRetried"),
            app("JobsResubmitted"),
        ),
    ),
    Panel(
        "Job duration to COMPLETED (s)",
        tuple(app("JobDurationSeconds", stat, label=stat, status="COMPLETED") for stat in ("p50", "p90", "p99")),
    ),
    Panel(
        "Agent calls",
        (
            app("AgentCallLatencyMs", "p50", label="latency p50 (ms)"),
            app("AgentCallLatencyMs", "p90", label="latency p90 (ms)"),
            app("AgentCallErrors", label="errors"),
        ),
    ),
    Panel(
        "Judge",
        (
            *(app("JudgeVerdicts", label=verdict, verdict=verdict) for verdict in VERDICTS),
            app("JudgeLatencyMs", "p90", label="latency p90 (ms)"),
        ),
    ),
    Panel("Judge tokens", tuple(app("JudgeTokens", label=task, task=task) for task in JUDGE_TASKS)),
    Panel(
        "Checkpoints",
        (
            app("CheckpointsCreated"),
            app("CheckpointsApproved"),
            app("CheckpointsRejected"),
            app("CheckpointsExpired"),
            app("CheckpointsChangesRequested"),
            app("CheckpointsCancelled"),
            app("CheckpointWaitSeconds", "p90", label="wait p90 (s)"),
        ),
    ),
    Panel(
        "Checkpoint backlog (gauges)",
        (app("PendingCheckpoints"), OLDEST_PENDING_CHECKPOINT),
        period_minutes=1,
    ),
    Panel(
        "Jobs by status (gauges)",
        tuple(app("JobsInStatus", label=status, status=status) for status in GAUGED_STATUSES),
        period_minutes=1,
    ),
)

FAILURE_RATE_PERCENT = 20
CHECKPOINT_AGE_ALARM_SECONDS = 12 * 3600  # half the default 24 h expiry: time left to decide

APP_ALARMS: tuple[AppAlarm, ...] = (
    AppAlarm(
        "JobFailureRate",
        f"More than {FAILURE_RATE_PERCENT}% of finished jobs failed (2 of the last 3 five-minute periods)",
        metrics={"failed": JOBS_FAILED, "completed": JOBS_COMPLETED},
        expression=(
            "IF((FILL(failed, 0) + FILL(completed, 0)) > 0, "
            "100 * FILL(failed, 0) / (FILL(failed, 0) + FILL(completed, 0)), 0)"
        ),
        label="Job failure rate (%)",
        threshold=FAILURE_RATE_PERCENT,
        evaluation_periods=3,
        datapoints_to_alarm=2,
    ),
    AppAlarm(
        "CheckpointBacklog",
        "A checkpoint has waited for an admin's decision for more than 12 hours",
        metrics={"age": OLDEST_PENDING_CHECKPOINT},
        threshold=CHECKPOINT_AGE_ALARM_SECONDS,
    ),
)


def _rows(widgets: Sequence[cloudwatch.IWidget]) -> Iterable[list[cloudwatch.IWidget]]:
    per_row = DASHBOARD_WIDTH // WIDGET_WIDTH
    for start in range(0, len(widgets), per_row):
        yield list(widgets[start : start + per_row])


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id_: str,
        *,
        config: StackConfig,
        queues: Queues,
        functions: Mapping[str, lambda_.IFunction],
        state_machine: sfn.StateMachine,
        http_api: apigwv2.HttpApi,
    ) -> None:
        super().__init__(scope, construct_id_)
        # SSL enforced (nag SNS3). Not KMS-encrypted: CloudWatch alarms cannot publish to a topic under
        # the AWS-managed aws/sns key, and the messages carry only alarm names and states.
        self.topic = sns.Topic(self, "AlarmTopic", display_name="Agent Jobs alarms", enforce_ssl=True)
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        minute = cdk.Duration.minutes(1)
        five_minutes = cdk.Duration.minutes(5)
        for deployed in queues.deployed:
            self._alarm(
                f"{construct_id(deployed.spec.key)}DlqNotEmpty",
                f"The {deployed.spec.key} DLQ holds messages: jobs its consumer could not process or fail",
                deployed.dlq.metric_approximate_number_of_messages_visible(period=minute, statistic="Maximum"),
                threshold=0,
            )
        for name, function in functions.items():
            self._alarm(
                f"{function_id(name)}Errors",
                f"The {name} function raised errors (invocations that failed, not handled 4xx answers)",
                function.metric_errors(period=five_minutes, statistic="Sum"),
                threshold=0,
            )
        for spec in APP_ALARMS:
            self._alarm(
                spec.id,
                spec.description,
                spec.metric(),
                threshold=spec.threshold,
                evaluation_periods=spec.evaluation_periods,
                datapoints_to_alarm=spec.datapoints_to_alarm,
                comparison=spec.comparison,
            )

        widgets: list[cloudwatch.IWidget] = [
            self._graph(panel.title, [m.metric(cdk.Duration.minutes(panel.period_minutes)) for m in panel.metrics])
            for panel in APP_PANELS
        ]
        widgets += [
            self._graph(
                "Queue depth (visible)",
                [
                    d.queue.metric_approximate_number_of_messages_visible(period=minute, label=d.spec.key)
                    for d in queues.deployed
                ],
            ),
            self._graph(
                "Messages in flight",
                [
                    d.queue.metric_approximate_number_of_messages_not_visible(period=minute, label=d.spec.key)
                    for d in queues.deployed
                ],
            ),
            self._graph(
                "DLQ depth",
                [
                    d.dlq.metric_approximate_number_of_messages_visible(period=minute, label=f"{d.spec.key} DLQ")
                    for d in queues.deployed
                ],
            ),
            self._graph(
                "Function errors",
                [fn.metric_errors(period=five_minutes, label=name) for name, fn in functions.items()],
            ),
            self._graph(
                "Function duration p90 (ms)",
                [
                    fn.metric_duration(period=five_minutes, statistic="p90", label=name)
                    for name, fn in functions.items()
                ],
            ),
            self._graph(
                "Function throttles",
                [fn.metric_throttles(period=five_minutes, label=name) for name, fn in functions.items()],
            ),
            self._graph(
                "API requests and errors",
                [
                    http_api.metric_count(period=five_minutes, label="requests"),
                    http_api.metric_client_error(period=five_minutes, label="4xx"),
                    http_api.metric_server_error(period=five_minutes, label="5xx"),
                ],
            ),
            self._graph(
                "API latency p90 (ms)",
                [
                    http_api.metric_latency(period=five_minutes, statistic="p90", label="latency"),
                    http_api.metric_integration_latency(period=five_minutes, statistic="p90", label="integration"),
                ],
            ),
            self._graph(
                "Checkpoint waits",
                [
                    state_machine.metric_started(period=five_minutes, label="started"),
                    state_machine.metric_succeeded(period=five_minutes, label="succeeded"),
                    state_machine.metric_failed(period=five_minutes, label="failed"),
                    state_machine.metric_timed_out(period=five_minutes, label="timed out"),
                ],
            ),
        ]
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=cdk.Duration.hours(3))
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                title="Alarms", alarms=list(self.alarms.values()), width=DASHBOARD_WIDTH, height=4
            )
        )
        for row in _rows(widgets):
            self.dashboard.add_widgets(*row)

    def _alarm(
        self,
        alarm_id: str,
        description: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        evaluation_periods: int = 1,
        datapoints_to_alarm: int | None = None,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            alarm_id,
            metric=metric,
            alarm_description=description,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        action = cw_actions.SnsAction(self.topic)
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
        self.alarms[alarm_id] = alarm

    @staticmethod
    def _graph(title: str, metrics: Sequence[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
        return cloudwatch.GraphWidget(title=title, left=list(metrics), width=WIDGET_WIDTH, height=WIDGET_HEIGHT)
