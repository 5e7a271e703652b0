"""The judge's OpenAI API key in Secrets Manager (created as a placeholder; the operator puts the key)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import constants as c
from infra.config import StackConfig
from infra.nag import acknowledge


class JudgeSecret(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StackConfig) -> None:
        super().__init__(scope, construct_id)
        self.secret = secretsmanager.Secret(
            self,
            "OpenAiApiKey",
            description="OpenAI API key of the judge (validate function). Set it with "
            "`aws secretsmanager put-secret-value`; a redeploy keeps the value.",
            # Not a secret: a marker the operator replaces. CloudFormation only rewrites the value if
            # this text changes, so a deploy never overwrites the real key.
            secret_string_value=cdk.SecretValue.unsafe_plain_text(c.OPENAI_SECRET_PLACEHOLDER),
            removal_policy=config.removal_policy,
        )
        acknowledge(
            self.secret,
            "AwsSolutions-SMG4",
            "A third-party (OpenAI) API key: Secrets Manager cannot rotate it (no rotation API on the "
            "OpenAI side); it is rotated by hand with put-secret-value, as infra/README.md describes.",
        )

    def environment(self) -> dict[str, str]:
        return {c.ENV_OPENAI_SECRET_NAME: self.secret.secret_name}

    def grant_read(self, grantee: iam.IGrantable) -> None:
        self.secret.grant_read(grantee)
