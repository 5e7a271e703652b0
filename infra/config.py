"""The deploy-time choices, read once from the CDK context (cdk.json, or ``cdk deploy -c key=value``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from constructs import Node

from infra import constants as c


def _flag(value: Any) -> bool:
    """Context from the command line arrives as a string ("true"); from cdk.json as a bool."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _text(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


@dataclass(frozen=True)
class StackConfig:
    prod: bool = False
    openai_model: str = c.DEFAULT_OPENAI_MODEL
    alarm_email: str | None = None
    cognito_domain_prefix: str | None = None  # default: "<stack name>-<account id>", lower-cased
    extra_callback_urls: tuple[str, ...] = ()

    @classmethod
    def from_context(cls, node: Node) -> StackConfig:
        urls = _text(node.try_get_context(c.CTX_EXTRA_CALLBACK_URLS)) or ""
        return cls(
            prod=_flag(node.try_get_context(c.CTX_PROD)),
            openai_model=_text(node.try_get_context(c.CTX_OPENAI_MODEL)) or c.DEFAULT_OPENAI_MODEL,
            alarm_email=_text(node.try_get_context(c.CTX_ALARM_EMAIL)),
            cognito_domain_prefix=_text(node.try_get_context(c.CTX_COGNITO_DOMAIN_PREFIX)),
            extra_callback_urls=tuple(url.strip() for url in urls.split(",") if url.strip()),
        )

    @property
    def removal_policy(self) -> cdk.RemovalPolicy:
        """Stateful resources (tables, user pool, secret, logs) survive a stack delete in prod."""
        return cdk.RemovalPolicy.RETAIN if self.prod else cdk.RemovalPolicy.DESTROY

    @property
    def log_retention(self) -> logs.RetentionDays:
        return c.LOG_RETENTION_PROD if self.prod else c.LOG_RETENTION_DEV
