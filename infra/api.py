"""The HTTP API: every route of ``agent_jobs.catalog.ROUTES``, a JWT authorizer on every non-public one."""

from __future__ import annotations

import json
from collections.abc import Mapping

import jsii
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from agent_jobs.catalog import ROUTES, Access
from infra import constants as c
from infra.auth import Auth
from infra.config import StackConfig
from infra.nag import PUBLIC_ROUTE, acknowledge

# One JSON line per request (HTTP API $context variables); no headers or bodies, so no tokens.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
    "userId": "$context.authorizer.claims.sub",
}

PUBLIC_ROUTE_REASON = (
    "Public by design (catalog.ROUTES access=public): the OpenAPI document, the API docs page and "
    "the admin page's static files. They hold no data; every data call the page makes carries a "
    "Cognito token and goes through the JWT authorizer."
)


@jsii.implements(apigwv2.IAccessLogSettings)
class AccessLogSettings:
    """A stage's JSON access log into ``log_group`` (the HTTP API's and the WebSocket API's own formats)."""

    def __init__(self, log_group: logs.ILogGroup, log_format: dict[str, str]) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)
        self._format = apigw.AccessLogFormat.custom(json.dumps(log_format))

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return self._format


class Api(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StackConfig) -> None:
        super().__init__(scope, construct_id)
        self.http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            description="Agent Jobs API (routes: agent_jobs.catalog.ROUTES)",
            create_default_stage=False,  # made below, with throttling and access logs
        )
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=config.log_retention, removal_policy=config.removal_policy
        )
        self.stage = self.http_api.add_stage(
            "DefaultStage",
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=c.API_THROTTLE_RATE, burst_limit=c.API_THROTTLE_BURST),
            access_log_settings=AccessLogSettings(self.access_logs, ACCESS_LOG_FORMAT),
        )
        self.routes: dict[tuple[str, str], apigwv2.HttpRoute] = {}

    @property
    def url(self) -> str:
        """``https://<api id>.execute-api.<region>.amazonaws.com/`` (ends with a slash)."""
        return self.stage.url

    @property
    def admin_page_url(self) -> str:
        return f"{self.url}{c.ADMIN_PAGE_PATH.lstrip('/')}"

    def add_routes(self, functions: Mapping[str, lambda_.IFunction], auth: Auth) -> None:
        """Every route of the catalog; user and admin routes need a valid token (admin: checked in code)."""
        authorizer = authorizers.HttpUserPoolAuthorizer(
            "CognitoAuthorizer", auth.user_pool, user_pool_clients=[auth.client, auth.machine_client]
        )
        no_auth = apigwv2.HttpNoneAuthorizer()
        # One integration per function; one invoke permission per function for the whole API
        # (a permission per route would put ~30 statements on create_job's resource policy).
        lambda_integrations = {
            name: integrations.HttpLambdaIntegration(f"{name}-integration", fn, scope_permission_to_route=False)
            for name, fn in functions.items()
        }
        for route in ROUTES:
            public = route.access is Access.PUBLIC
            (created,) = self.http_api.add_routes(
                path=route.path,
                methods=[apigwv2.HttpMethod(route.method)],
                integration=lambda_integrations[route.function],
                authorizer=no_auth if public else authorizer,
            )
            self.routes[(route.method, route.path)] = created
            if public:
                acknowledge(created, PUBLIC_ROUTE, PUBLIC_ROUTE_REASON)
