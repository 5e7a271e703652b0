"""The gates: cdk-nag (AwsSolutions) clean, no unexplained IAM wildcard, cfn-lint clean."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.conftest import Synth
from tests.infra.helpers import as_list, of_type, path_of

IAM5_ANY_RESOURCE = "AwsSolutions-IAM5[Resource::*]"
# Actions AWS only authorizes on Resource "*" (no resource-level permissions), and who has them.
ANY_RESOURCE_ACTIONS = {
    "xray:PutTraceSegments",  # tracing=ACTIVE (functions, state machine)
    "dynamodb:ListStreams",  # a stream event source mapping's grant (the events function)
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "logs:CreateLogDelivery",  # Step Functions logging to CloudWatch Logs
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
    "lambda:ListEventSourceMappings",  # metrics: finding the worker's mappings
}
# Every kind of acknowledgement this app makes; a new kind needs a look (and a line here).
KNOWN_ACKNOWLEDGEMENTS = {
    IAM5_ANY_RESOURCE,
    "AwsSolutions-L1",  # python3.12 on purpose
    "AwsSolutions-APIG4",  # the public routes of catalog.ROUTES
    "AwsSolutions-COG2",  # MFA optional
    "AwsSolutions-SMG4",  # the OpenAI key cannot be rotated by Secrets Manager
}


def test_synth_with_nag_succeeds(synth: Synth) -> None:
    assert synth.error is None, synth.error


def test_nag_reports_no_finding(synth: Synth) -> None:
    """ERROR findings fail synth; WARNING ones only land in the report: neither may be there."""
    findings = [
        f"{violation['severity']} {violation['ruleName']} {construct['constructPath']}"
        for report in synth.validation_report()["pluginReports"]
        for violation in report.get("violations", [])
        for construct in violation["violatingConstructs"]
    ]
    assert findings == []


def test_no_warning_or_error_annotations(synth: Synth) -> None:
    assert synth.annotations() == []


def _acknowledgements(template: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (path_of(resource), rule["id"], rule["reason"])
        for resource in template["Resources"].values()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]


def test_every_acknowledgement_has_a_reason_and_a_known_rule(template: dict[str, Any]) -> None:
    acknowledgements = _acknowledgements(template)
    assert acknowledgements
    for path, rule, reason in acknowledgements:
        assert len(reason) >= 40, (path, rule, reason)
        # IAM5 on a named resource pattern (this machine's executions, the WebSocket stage's connections)
        assert rule in KNOWN_ACKNOWLEDGEMENTS or rule.startswith("AwsSolutions-IAM5[Resource::arn:"), (path, rule)


def _policy_statements(template: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(resource, statement) for every IAM policy statement in the template (Policy, ManagedPolicy, Role)."""
    found = []
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        documents = []
        if resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            documents.append(props["PolicyDocument"])
        if resource["Type"] == "AWS::IAM::Role":
            documents += [policy["PolicyDocument"] for policy in props.get("Policies", [])]
        for document in documents:
            found += [(resource, statement) for statement in document["Statement"]]
    return found


def test_no_wildcard_action(template: dict[str, Any]) -> None:
    for _, statement in _policy_statements(template):
        for action in as_list(statement.get("Action", [])):
            assert "*" not in action, statement


def test_any_resource_only_where_aws_requires_it_and_acknowledged(template: dict[str, Any]) -> None:
    for resource, statement in _policy_statements(template):
        resources = as_list(statement.get("Resource", []))
        if not any(isinstance(r, str) and "*" in r for r in resources):
            continue
        assert resources == ["*"], statement  # no partial wildcards (e.g. table/index/*)
        assert set(as_list(statement["Action"])) <= ANY_RESOURCE_ACTIONS, statement
        acknowledged = {
            rule["id"]: rule["reason"]
            for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
        }
        assert acknowledged.get(IAM5_ANY_RESOURCE), (path_of(resource), statement)


def test_no_aws_managed_policy_anywhere(template: dict[str, Any]) -> None:
    for role in of_type(template, "AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"], path_of(role)


@pytest.mark.parametrize("variant", ["dev", "prod"])
def test_cfn_lint(request: pytest.FixtureRequest, variant: str) -> None:
    """The whole (dev) template, and the stateful constructs as ``prod`` configures them."""
    from cfnlint.api import ManualArgs, lint

    template = request.getfixturevalue("template" if variant == "dev" else "prod_template")
    # W3005: redundant DependsOn, which CDK itself writes.
    matches = lint(
        json.dumps(template),
        config=ManualArgs(ignore_checks=["W3005"], regions=["us-east-1"]),
    )
    assert [str(match) for match in matches] == []
