"""The one stack: it only composes the constructs, one per concern."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from infra import constants as c
from infra.admin_page import AdminPage
from infra.api import Api
from infra.auth import Auth
from infra.config import StackConfig
from infra.job_events import JobEvents
from infra.judge_secret import JudgeSecret
from infra.lambdas import Lambdas
from infra.monitoring import Monitoring
from infra.queues import Queues
from infra.realtime import Realtime
from infra.schedule import Schedule
from infra.tables import Tables
from infra.workflow import Workflow


class AgentJobsStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: StackConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description=c.STACK_DESCRIPTION, **kwargs)
        self.config = config
        self.tables = Tables(self, "Tables", config=config)
        self.queues = Queues(self, "Queues")
        self.workflow = Workflow(self, "Workflow", queues=self.queues, config=config)
        self.judge_secret = JudgeSecret(self, "Secrets", config=config)
        self.api = Api(self, "Api", config=config)
        self.auth = Auth(self, "Auth", config=config, callback_urls=[self.api.admin_page_url])
        self.lambdas = Lambdas(
            self,
            "Functions",
            config=config,
            tables=self.tables,
            queues=self.queues,
            state_machine=self.workflow.state_machine,
            judge_secret=self.judge_secret,
        )
        self.api.add_routes(self.lambdas.functions, self.auth)
        # async agents call back to the API (DESIGN.md §14): the execute step puts this base in callbackUrl
        self.lambdas["execute_job"].add_environment("PUBLIC_API_URL", self.api.url)
        self.admin_page = AdminPage(
            self, "AdminPage", function=self.lambdas[c.ADMIN_PAGE_FUNCTION], api=self.api, auth=self.auth
        )
        self.schedule = Schedule(self, "Schedule", function=self.lambdas[c.SCHEDULED_FUNCTION])
        self.job_events = JobEvents(self, "JobEvents", tables=self.tables, functions=self.lambdas.functions)
        self.realtime = Realtime(self, "Realtime", config=config, functions=self.lambdas.functions, auth=self.auth)
        # the admin page's live updates: its config.json names the socket and its CSP allows exactly that origin
        self.lambdas[c.ADMIN_PAGE_FUNCTION].add_environment("ADMIN_REALTIME_URL", self.realtime.url)
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            config=config,
            queues=self.queues,
            functions=self.lambdas.functions,
            state_machine=self.workflow.state_machine,
            http_api=self.api.http_api,
        )
        self._outputs()

    def _outputs(self) -> None:
        outputs = {
            "ApiUrl": (self.api.url, "Base URL of the HTTP API (routes under /api)"),
            "UserPoolId": (self.auth.user_pool.user_pool_id, "Cognito user pool (admin-create-user)"),
            "UserPoolClientId": (self.auth.client.user_pool_client_id, "App client for tokens"),
            "CognitoHostedUiUrl": (self.auth.hosted_ui_url, "Hosted UI (OAuth code flow)"),
            "OpenAiSecretName": (self.judge_secret.secret.secret_name, "Put the OpenAI key here"),
            "StateMachineArn": (self.workflow.state_machine.state_machine_arn, "Checkpoint wait state machine"),
            "AlarmTopicArn": (self.monitoring.topic.topic_arn, "Subscribe to get alarms"),
            "DashboardName": (self.monitoring.dashboard.dashboard_name, "CloudWatch dashboard"),
            "EventBusName": (self.job_events.bus.event_bus_name, "Job events (DESIGN.md §15): route them anywhere"),
            "RealtimeUrl": (self.realtime.url, "WebSocket: connect with ?token=<IdToken>, then subscribe (§15)"),
        }
        for key, (value, description) in outputs.items():
            cdk.CfnOutput(self, key, value=value, description=description)
