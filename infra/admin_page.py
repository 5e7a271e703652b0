"""The admin page: static files served by the checkpoints function on the public routes GET /admin and
GET /admin/{file} (``catalog.ROUTES``), so no bucket or CDN. This construct wires its sign-in settings."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import constants as c
from infra.api import Api
from infra.auth import Auth


class AdminPage(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, function: lambda_.Function, api: Api, auth: Auth
    ) -> None:
        super().__init__(scope, construct_id)
        environment = {
            c.ENV_ADMIN_USER_POOL_ID: auth.user_pool.user_pool_id,
            c.ENV_ADMIN_CLIENT_ID: auth.client.user_pool_client_id,
            c.ENV_ADMIN_COGNITO_DOMAIN: auth.hosted_ui_url,
        }
        for key, value in environment.items():
            function.add_environment(key, value)
        self.url = api.admin_page_url
        cdk.CfnOutput(self, "Url", key="AdminPageUrl", value=self.url, description="The admin page")
