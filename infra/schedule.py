"""The scheduled run of the metrics function: gauges and the sweeper of stuck work, every minute."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import constants as c


class Schedule(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, function: lambda_.Function) -> None:
        super().__init__(scope, construct_id)
        max_age = cdk.Duration.seconds(c.METRICS_MAX_EVENT_AGE_SECONDS)
        self.rule = events.Rule(
            self,
            "EveryMinute",
            description="Gauges (jobs by status, checkpoint backlog, queue depths) and the stuck-work sweeper",
            schedule=events.Schedule.rate(cdk.Duration.minutes(c.GAUGE_SCHEDULE_MINUTES)),
            targets=[targets.LambdaFunction(function, max_event_age=max_age, retry_attempts=2)],
        )
        # A failed run is not retried by Lambda: the next one starts a minute later anyway.
        function.configure_async_invoke(retry_attempts=0, max_event_age=max_age)
