"""Issue 18 in the template: the scorecard and audit tables, machine credentials (a Cognito resource server
with the route table's scopes and a client-credentials app client the API's authorizer accepts), and the
least-privilege grants of the new routes and counters."""

from __future__ import annotations

import json
from typing import Any

from agent_jobs.catalog import QUEUES, RESOURCE_SERVER, Scope
from infra.lambdas import function_id
from infra.queues import construct_id as queue_id
from infra.tables import construct_id as table_id
from tests.infra.helpers import arn, as_list, by_path, logical_id, of_type, ref


def _keys(props: dict[str, Any]) -> dict[str, str]:
    return {key["KeyType"]: key["AttributeName"] for key in props["KeySchema"]}


def test_the_scorecard_and_audit_tables(template: dict[str, Any]) -> None:
    scores = by_path(template, f"Tables/{table_id('agent_scores_table')}/Resource")[1]["Properties"]
    assert _keys(scores) == {"HASH": "agent_id", "RANGE": "hour"} and "GlobalSecondaryIndexes" not in scores
    audit = by_path(template, f"Tables/{table_id('audit_table')}/Resource")[1]["Properties"]
    assert _keys(audit) == {"HASH": "month", "RANGE": "entry_id"}
    for props in (scores, audit):
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_a_resource_server_with_the_route_tables_scopes(template: dict[str, Any]) -> None:
    (server,) = of_type(template, "AWS::Cognito::UserPoolResourceServer").values()
    props = server["Properties"]
    assert props["Identifier"] == RESOURCE_SERVER
    assert props["UserPoolId"] == ref(logical_id(template, "Auth/UserPool/Resource"))
    assert {scope["ScopeName"] for scope in props["Scopes"]} == {scope.short_name for scope in Scope}


def test_a_client_credentials_app_client(template: dict[str, Any]) -> None:
    lid, client = by_path(template, "Auth/UserPool/MachineClient/Resource")
    props = client["Properties"]
    assert props["GenerateSecret"] is True
    assert props["AllowedOAuthFlows"] == ["client_credentials"]
    assert props["AllowedOAuthFlowsUserPoolClient"] is True
    scopes = json.dumps(props["AllowedOAuthScopes"])
    assert "/jobs.read" in scopes and "/jobs.write" in scopes and "/admin" not in scopes  # admin: on purpose only
    assert not props.get("ExplicitAuthFlows") or props["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]
    resource_server = next(iter(of_type(template, "AWS::Cognito::UserPoolResourceServer")))
    assert resource_server in json.dumps(props["AllowedOAuthScopes"]) or RESOURCE_SERVER in scopes
    # the API's JWT authorizer takes its tokens (an access token's client_id is checked against the audience)
    (authorizer,) = [  # the HTTP API's (the WebSocket API of infra/realtime.py has its own)
        a
        for a in of_type(template, "AWS::ApiGatewayV2::Authorizer").values()
        if a["Properties"]["AuthorizerType"] == "JWT"
    ]
    audience = authorizer["Properties"]["JwtConfiguration"]["Audience"]
    assert ref(lid) in audience and ref(logical_id(template, "Auth/UserPool/AppClient/Resource")) in audience


def _statements(template: dict[str, Any], function: str) -> list[dict[str, Any]]:
    role = logical_id(template, f"Functions/{function_id(function)}Role/Resource")
    found = []
    for policy in of_type(template, "AWS::IAM::Policy").values():
        if ref(role) in policy["Properties"]["Roles"]:
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def _actions_on(statements: list[dict[str, Any]], resource: Any) -> set[str]:
    return {
        action
        for statement in statements
        if resource in as_list(statement["Resource"])
        for action in as_list(statement["Action"])
    }


def test_settling_functions_may_add_to_the_scorecards(template: dict[str, Any]) -> None:
    scores = arn(logical_id(template, f"Tables/{table_id('agent_scores_table')}/Resource"))
    for function in ("execute_job", "validate", "checkpoints", "metrics"):  # every function that settles jobs
        assert "dynamodb:UpdateItem" in _actions_on(_statements(template, function), scores), function
    audit = arn(logical_id(template, f"Tables/{table_id('audit_table')}/Resource"))
    assert "dynamodb:PutItem" in _actions_on(_statements(template, "metrics"), audit)  # worker changes, replays
    assert "dynamodb:PutItem" in _actions_on(_statements(template, "create_job"), audit)  # registry changes
    assert "dynamodb:PutItem" not in _actions_on(_statements(template, "execute_job"), audit)


def test_the_operations_function_peeks_into_and_replays_dead_letters(template: dict[str, Any]) -> None:
    for spec in QUEUES:
        dlq = arn(logical_id(template, f"Queues/{queue_id(spec.key)}Dlq/Resource"))
        queue = arn(logical_id(template, f"Queues/{queue_id(spec.key)}/Resource"))
        metrics = _statements(template, "metrics")
        assert {"sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage"} <= _actions_on(metrics, dlq)
        assert "sqs:SendMessage" in _actions_on(metrics, queue)
        assert "sqs:ReceiveMessage" not in _actions_on(_statements(template, "create_job"), dlq)  # the API proper
