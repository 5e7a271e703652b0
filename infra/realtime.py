"""Real time (DESIGN.md §15): an API Gateway WebSocket API served by the realtime function.

- ``$connect`` carries a Lambda REQUEST authorizer (the realtime function verifies the Cognito JWT given as
  ``?token=``: WebSocket APIs have no JWT authorizer); a bad or expired token is a 401 before any upgrade.
- ``$disconnect``; ``subscribe`` (a frame's ``action``) and ``$default`` answer on the connection (route responses).
- The functions that fan events out (``permissions.posts_to_connections``: the events function, through
  ``domain/subscribers.deliver``) may ``execute-api:ManageConnections`` on this stage and get its callback URL.
- The connections and subscriptions live in the ``realtime`` table (TTL), made by ``infra/tables.py``.
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from agent_jobs.catalog import REALTIME_FUNCTION
from infra import constants as c
from infra.api import AccessLogSettings
from infra.auth import Auth
from infra.config import StackConfig
from infra.nag import PUBLIC_ROUTE, acknowledge
from infra.permissions import ACCESS

STAGE = "live"
TOKEN_SOURCE = "route.request.querystring.token"  # noqa: S105 - where the token is, not a token
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "routeKey": "$context.routeKey",
    "eventType": "$context.eventType",
    "connectionId": "$context.connectionId",
    "status": "$context.status",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
    "userId": "$context.authorizer.principalId",
}
UNAUTHORIZED_ROUTE_REASON = (
    "A WebSocket API authorizes on $connect only (that route has the Lambda authorizer on the Cognito JWT); "
    "$disconnect, $default and subscribe run on a connection that was authorized, and the function reads the "
    "caller from the authorizer's context on every frame."
)

MANAGE_REASON = (
    "execute-api:ManageConnections on this stage's @connections/*: a frame goes to whichever connection "
    "subscribed, and connection ids are made by API Gateway at connect time, so no narrower resource exists."
)


class Realtime(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StackConfig,
        functions: Mapping[str, lambda_.Function],
        auth: Auth,
    ) -> None:
        super().__init__(scope, construct_id)
        function = functions[REALTIME_FUNCTION]

        def integration(name: str) -> integrations.WebSocketLambdaIntegration:
            return integrations.WebSocketLambdaIntegration(f"{name}Integration", function)

        authorizer = authorizers.WebSocketLambdaAuthorizer("CognitoToken", function, identity_source=[TOKEN_SOURCE])
        self.api = apigwv2.WebSocketApi(
            self,
            "WebSocketApi",
            description="Agent Jobs real time: job events as JSON frames (DESIGN.md §15)",
            route_selection_expression="$request.body.action",
            connect_route_options=apigwv2.WebSocketRouteOptions(
                integration=integration("Connect"), authorizer=authorizer
            ),
            disconnect_route_options=apigwv2.WebSocketRouteOptions(integration=integration("Disconnect")),
            default_route_options=apigwv2.WebSocketRouteOptions(
                integration=integration("Default"), return_response=True
            ),
        )
        self.api.add_route("subscribe", integration=integration("Subscribe"), return_response=True)
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=config.log_retention, removal_policy=config.removal_policy
        )
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=STAGE,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=c.API_THROTTLE_RATE, burst_limit=c.API_THROTTLE_BURST),
            access_log_settings=AccessLogSettings(self.access_logs, ACCESS_LOG_FORMAT),
        )
        for route in self.api.node.find_all():
            if isinstance(route, apigwv2.CfnRoute) and route.route_key != "$connect":
                acknowledge(route, PUBLIC_ROUTE, UNAUTHORIZED_ROUTE_REASON)

        clients = [auth.client.user_pool_client_id, auth.machine_client.user_pool_client_id]
        function.add_environment(c.env_name("cognito_user_pool_id"), auth.user_pool.user_pool_id)
        function.add_environment(c.env_name("cognito_client_ids"), cdk.Fn.join(",", clients))
        stack = cdk.Stack.of(self)
        api_id = stack.resolve(stack.get_logical_id(self.api.node.default_child))  # type: ignore[arg-type]
        connections = (
            f"arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<{api_id}>/{STAGE}/*/@connections/*"
        )
        for name, access in ACCESS.items():
            if access.posts_to_connections:
                self.stage.grant_management_api_access(functions[name])
                functions[name].add_environment(c.env_name("realtime_callback_url"), self.stage.callback_url)
                acknowledge(functions[name].role, f"AwsSolutions-IAM5[Resource::{connections}]", MANAGE_REASON)  # type: ignore[arg-type]

    @property
    def url(self) -> str:
        """``wss://<api id>.execute-api.<region>.amazonaws.com/live`` (connect with ``?token=<JWT>``)."""
        return self.stage.url
