"""cdk-nag (AwsSolutions) on the app, and the one way this app acknowledges a finding: with a reason."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

# Finding ids used by more than one construct.
IAM5_ANY_RESOURCE = "AwsSolutions-IAM5[Resource::*]"
LAMBDA_RUNTIME = "AwsSolutions-L1"
PUBLIC_ROUTE = "AwsSolutions-APIG4"

XRAY_REASON = (
    "X-Ray's PutTraceSegments/PutTelemetryRecords (added by tracing=ACTIVE) do not support "
    "resource-level permissions: AWS requires Resource '*'."
)


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Accept a finding on ``scope`` and everything under it. ``reason`` lands in the cloud assembly."""
    if len(reason.strip()) < 20:
        raise ValueError(f"acknowledging {rule} needs a real reason, not {reason!r}")
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def add_checks(app: cdk.App) -> None:
    """AwsSolutions on every stack of the app; an unacknowledged ERROR finding fails synth.

    The acknowledgements are also written into each resource's ``Metadata.cdk_nag`` (the v2 format),
    so the template itself carries the audit trail.
    """
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))
