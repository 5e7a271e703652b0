"""Webhooks and real time in the template (DESIGN.md §15): the WebSocket API with its $connect authorizer and
route responses, its stage, the connections table's TTL, the webhooks queue and its consumer, the fan-out's
permission, and the RealtimeUrl output."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agent_jobs.catalog import FUNCTIONS, QUEUES
from infra.lambdas import function_id
from infra.tables import construct_id as table_id
from tests.infra.helpers import arn, as_list, by_path, logical_id, of_type, ref


def _routes(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in of_type(template, "AWS::ApiGatewayV2::Route").values()
        if r["Properties"]["ApiId"] == ref(logical_id(template, "Realtime/WebSocketApi/Resource"))
    }


def test_the_websocket_api_routes_by_action_to_the_realtime_function(template: dict[str, Any]) -> None:
    api = by_path(template, "Realtime/WebSocketApi/Resource")[1]["Properties"]
    assert api["ProtocolType"] == "WEBSOCKET" and api["RouteSelectionExpression"] == "$request.body.action"
    routes = _routes(template)
    assert set(routes) == {"$connect", "$disconnect", "$default", "subscribe"}
    realtime = logical_id(template, f"Functions/{function_id('realtime')}/Resource")
    integrations = of_type(template, "AWS::ApiGatewayV2::Integration")
    for props in routes.values():
        integration = integrations[props["Target"]["Fn::Join"][1][1]["Ref"]]["Properties"]
        assert arn(realtime) in integration["IntegrationUri"]["Fn::Join"][1]
    for key in ("$default", "subscribe"):  # the answer frame goes back on the connection
        assert routes[key]["RouteResponseSelectionExpression"] == "$default"


def test_connect_needs_the_token_authorizer(template: dict[str, Any]) -> None:
    connect = _routes(template)["$connect"]
    assert connect["AuthorizationType"] == "CUSTOM"
    authorizer = of_type(template, "AWS::ApiGatewayV2::Authorizer")[connect["AuthorizerId"]["Ref"]]["Properties"]
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert authorizer["IdentitySource"] == ["route.request.querystring.token"]  # no token: 401 before any upgrade
    realtime = by_path(template, f"Functions/{function_id('realtime')}/Resource")[1]["Properties"]
    variables = realtime["Environment"]["Variables"]
    assert variables["COGNITO_USER_POOL_ID"] == ref(logical_id(template, "Auth/UserPool/Resource"))
    assert "COGNITO_CLIENT_IDS" in variables


def test_the_stage_logs_and_throttles(template: dict[str, Any]) -> None:
    stage = by_path(template, "Realtime/Stage/Resource")[1]["Properties"]
    assert stage["StageName"] == "live" and stage["AutoDeploy"] is True
    assert stage["AccessLogSettings"]["DestinationArn"] == arn(logical_id(template, "Realtime/AccessLogs/Resource"))
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    url = template["Outputs"]["RealtimeUrl"]["Value"]["Fn::Join"][1]
    assert url[0] == "wss://" and url[-1] == "/live"


@pytest.mark.parametrize(
    ("setting", "ttl"),
    [("realtime_table", "expires_at"), ("webhook_deliveries_table", "expires_at"), ("webhooks_table", "expires_at")],
)
def test_the_new_tables_expire_what_they_no_longer_need(template: dict[str, Any], setting: str, ttl: str) -> None:
    props = by_path(template, f"Tables/{table_id(setting)}/Resource")[1]["Properties"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": ttl, "Enabled": True}


def test_the_webhooks_queue_feeds_the_webhooks_function(template: dict[str, Any]) -> None:
    (spec,) = [q for q in QUEUES if q.key == "webhooks"]
    queue = logical_id(template, "Queues/Webhooks/Resource")
    (mapping,) = [
        m["Properties"]
        for m in of_type(template, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == arn(queue)
    ]
    assert mapping["FunctionName"] == ref(logical_id(template, f"Functions/{function_id('webhooks')}/Resource"))
    assert mapping["BatchSize"] == spec.batch_size
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    props = by_path(template, "Queues/Webhooks/Resource")[1]["Properties"]
    assert props["VisibilityTimeout"] == FUNCTIONS["webhooks"].timeout_seconds * 6
    assert props["RedrivePolicy"]["deadLetterTargetArn"] == arn(logical_id(template, "Queues/WebhooksDlq/Resource"))


def _statements(template: dict[str, Any], role_path: str) -> list[dict[str, Any]]:
    policy = by_path(template, f"{role_path}/DefaultPolicy/Resource")[1]["Properties"]["PolicyDocument"]
    return list(policy["Statement"])


def test_only_the_fan_out_may_post_to_connections(template: dict[str, Any]) -> None:
    events = by_path(template, f"Functions/{function_id('events')}/Resource")[1]["Properties"]
    assert "REALTIME_CALLBACK_URL" in events["Environment"]["Variables"]
    for name in FUNCTIONS:
        actions = {
            action
            for statement in _statements(template, f"Functions/{function_id(name)}Role")
            for action in as_list(statement["Action"])
        }
        assert ("execute-api:ManageConnections" in actions) == (name == "events"), name


def test_the_webhooks_function_sends_only_to_its_own_queue(template: dict[str, Any]) -> None:
    sends = [
        statement["Resource"]
        for statement in _statements(template, f"Functions/{function_id('webhooks')}Role")
        if "sqs:SendMessage" in as_list(statement["Action"])
    ]
    assert sends == [arn(logical_id(template, "Queues/Webhooks/Resource"))]


def test_the_admin_page_is_told_where_the_socket_is(template: dict[str, Any]) -> None:
    """Its config.json names the WebSocket and its CSP's connect-src allows exactly that origin (api/admin_page.py);
    without it the page would poll, since the socket's host is not the HTTP API's."""
    page = by_path(template, f"Functions/{function_id('checkpoints')}/Resource")[1]["Properties"]
    assert "wss://" in json.dumps(page["Environment"]["Variables"]["ADMIN_REALTIME_URL"])
