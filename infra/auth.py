"""Sign-in: a Cognito user pool (admins create users), the ``admins`` group, one public app client for people,
and machine credentials (a resource server with scopes, a confidential client-credentials app client)."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from agent_jobs.catalog import RESOURCE_SERVER, Scope
from infra import constants as c
from infra.config import StackConfig
from infra.nag import acknowledge

SCOPE_DESCRIPTIONS = {
    Scope.READ: "Read your jobs and the agents",
    Scope.WRITE: "Create and act on your jobs",
    Scope.ADMIN: "Admin routes (the registry, any job, the worker)",
}


class Auth(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StackConfig,
        callback_urls: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,  # admins create users (infra/README.md)
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=c.PASSWORD_MIN_LENGTH,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=cdk.Duration.days(c.TEMP_PASSWORD_DAYS),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # Threat protection (compromised credentials, adaptive authentication) needs the Plus plan.
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            deletion_protection=config.prod,
            removal_policy=config.removal_policy,
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG2",
            "MFA is optional (TOTP) rather than required: programs call the API with "
            "USER_PASSWORD_AUTH tokens and cannot answer an MFA challenge; threat protection is "
            "enforced instead, and admins are asked to enrol TOTP (infra/README.md).",
        )
        self.admins_group = self.user_pool.add_group(
            "Admins",
            group_name=c.ADMINS_GROUP,
            description="May use /api/admin/* and the admin page (checked by the functions)",
        )
        self.client = self.user_pool.add_client(
            "AppClient",
            generate_secret=False,  # a browser page and CLI scripts: a public client
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            prevent_user_existence_errors=True,
            access_token_validity=cdk.Duration.hours(c.ACCESS_TOKEN_HOURS),
            id_token_validity=cdk.Duration.hours(c.ACCESS_TOKEN_HOURS),
            refresh_token_validity=cdk.Duration.days(c.REFRESH_TOKEN_DAYS),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=[*callback_urls, *config.extra_callback_urls],
                logout_urls=[*callback_urls, *config.extra_callback_urls],
            ),
        )
        # Machine credentials (DESIGN.md §18): a resource server whose scopes the route table enforces
        # (catalog.Route.scope), and an app client with the client-credentials grant for programs. More clients:
        # `aws cognito-idp create-user-pool-client --generate-secret --allowed-o-auth-flows client_credentials`.
        self.resource_server = self.user_pool.add_resource_server(
            "ApiScopes",
            identifier=RESOURCE_SERVER,
            user_pool_resource_server_name="Agent Jobs API",
            scopes=[
                cognito.ResourceServerScope(scope_name=scope.short_name, scope_description=SCOPE_DESCRIPTIONS[scope])
                for scope in Scope
            ],
        )
        self.machine_client = self.user_pool.add_client(
            "MachineClient",
            generate_secret=True,  # a confidential client: the secret is read from Cognito, never from the template
            auth_flows=cognito.AuthFlow(),  # no user sign-in at all
            prevent_user_existence_errors=True,
            access_token_validity=cdk.Duration.hours(c.ACCESS_TOKEN_HOURS),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(client_credentials=True),
                scopes=[
                    cognito.OAuthScope.resource_server(
                        self.resource_server,
                        cognito.ResourceServerScope(
                            scope_name=scope.short_name, scope_description=SCOPE_DESCRIPTIONS[scope]
                        ),
                    )
                    for scope in (Scope.READ, Scope.WRITE)  # no admin scope by default: grant it deliberately
                ],
            ),
        )
        stack = cdk.Stack.of(self)
        prefix = config.cognito_domain_prefix or f"{stack.stack_name.lower()}-{stack.account}"
        self.domain = self.user_pool.add_domain(
            "HostedUi", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=prefix)
        )

    @property
    def hosted_ui_url(self) -> str:
        """``https://<prefix>.auth.<region>.amazoncognito.com`` (OAuth code flow with PKCE)."""
        return self.domain.base_url()
