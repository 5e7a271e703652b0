"""Job events (DESIGN.md §15): the EventBridge bus ``agent-jobs-events``, and the event source mappings that
hand the streams of ``catalog.STREAMS`` to their consumer (the events function), which puts every change's
events on the bus. A batch that keeps failing is bisected down to its failing record, which is retried
``retry_attempts`` times (within a day, the stream's retention); the handler logs every failed record at ERROR.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from constructs import Construct

from agent_jobs.catalog import STREAMS
from agent_jobs.settings import Settings
from infra import constants as c
from infra.permissions import ACCESS
from infra.tables import Tables

BUS_NAME: str = Settings.model_fields["events_bus_name"].default
MAX_RECORD_AGE = cdk.Duration.hours(24)  # a stream keeps records 24 h: past that they are gone anyway


class JobEvents(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, tables: Tables, functions: dict[str, lambda_.Function]
    ) -> None:
        super().__init__(scope, construct_id)
        stack_name = cdk.Stack.of(self).stack_name
        # the contract's name (DESIGN.md §15) for the default stack; another stack's bus is its own
        bus_name = BUS_NAME if stack_name == c.STACK_ID else f"{stack_name}-events"
        self.bus = events.EventBus(self, "Bus", event_bus_name=bus_name)
        for name, access in ACCESS.items():
            if access.puts_job_events:
                self.bus.grant_put_events_to(functions[name])
                functions[name].add_environment(c.env_name("events_bus_name"), self.bus.event_bus_name)
        self.mappings: dict[str, event_sources.DynamoEventSource] = {}
        for spec in STREAMS:
            source = event_sources.DynamoEventSource(
                tables[spec.table].table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=spec.batch_size,
                max_batching_window=cdk.Duration.seconds(spec.max_batching_window_seconds),
                bisect_batch_on_error=True,
                report_batch_item_failures=True,
                retry_attempts=spec.retry_attempts,
                max_record_age=MAX_RECORD_AGE,
            )
            functions[spec.consumer].add_event_source(source)
            self.mappings[spec.table] = source
