"""The HTTP API deploys exactly catalog.ROUTES; a JWT authorizer guards every non-public route."""

from __future__ import annotations

from typing import Any

import pytest

from agent_jobs.catalog import ROUTES, Access
from infra.lambdas import function_id
from tests.infra.helpers import arn, by_path, logical_id, of_type, ref


def _of_http_api(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    """Resources of the HTTP API only (the WebSocket API of infra/realtime.py has routes and an authorizer too)."""
    http_api = ref(logical_id(template, "Api/HttpApi/Resource"))
    return {lid: r for lid, r in of_type(template, resource_type).items() if r["Properties"]["ApiId"] == http_api}


def _routes(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in _of_http_api(template, "AWS::ApiGatewayV2::Route").values()
    }


def test_deployed_routes_are_exactly_the_catalog(template: dict[str, Any]) -> None:
    deployed = set(_routes(template))
    expected = {f"{route.method} {route.path}" for route in ROUTES}
    assert deployed == expected, {"missing": expected - deployed, "unexpected": deployed - expected}


def test_jwt_authorizer_from_the_user_pool(template: dict[str, Any]) -> None:
    (authorizer,) = _of_http_api(template, "AWS::ApiGatewayV2::Authorizer").values()
    props = authorizer["Properties"]
    assert props["AuthorizerType"] == "JWT"
    assert props["IdentitySource"] == ["$request.header.Authorization"]
    assert props["JwtConfiguration"]["Audience"] == [  # people's app client, and the machine client (issue 18)
        ref(logical_id(template, "Auth/UserPool/AppClient/Resource")),
        ref(logical_id(template, "Auth/UserPool/MachineClient/Resource")),
    ]


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_route_authorization_and_target(template: dict[str, Any], route: Any) -> None:
    (authorizer_id,) = _of_http_api(template, "AWS::ApiGatewayV2::Authorizer")
    props = _routes(template)[f"{route.method} {route.path}"]
    if route.access is Access.PUBLIC:
        assert props.get("AuthorizationType", "NONE") == "NONE"
        assert "AuthorizerId" not in props
    else:
        assert props["AuthorizationType"] == "JWT"
        assert props["AuthorizerId"] == ref(authorizer_id)
    integration_id = props["Target"]["Fn::Join"][1][1]["Ref"]
    integration = template["Resources"][integration_id]["Properties"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "2.0"
    assert integration["IntegrationUri"] == arn(
        logical_id(template, f"Functions/{function_id(route.function)}/Resource")
    )


def test_default_stage_logs_and_throttles(template: dict[str, Any]) -> None:
    (stage,) = _of_http_api(template, "AWS::ApiGatewayV2::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == "$default"
    assert props["AutoDeploy"] is True
    assert props["AccessLogSettings"]["DestinationArn"] == arn(logical_id(template, "Api/AccessLogs/Resource"))
    assert "$context.requestId" in props["AccessLogSettings"]["Format"]
    assert props["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    assert props["DefaultRouteSettings"]["ThrottlingBurstLimit"] > 0


def test_user_pool(template: dict[str, Any]) -> None:
    props = by_path(template, "Auth/UserPool/Resource")[1]["Properties"]
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert props["MfaConfiguration"] == "OPTIONAL"
    policy = props["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 8
    assert all(policy[k] for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"))
    assert props["UserPoolTier"] == "PLUS"
    assert props["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    (group,) = of_type(template, "AWS::Cognito::UserPoolGroup").values()
    assert group["Properties"]["GroupName"] == "admins"


def test_app_client_flows(template: dict[str, Any]) -> None:
    props = by_path(template, "Auth/UserPool/AppClient/Resource")[1]["Properties"]
    assert set(props["ExplicitAuthFlows"]) >= {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"}
    assert props["AllowedOAuthFlows"] == ["code"]
    assert props["GenerateSecret"] is False
    assert props["AllowedOAuthFlowsUserPoolClient"] is True
    (callback,) = props["CallbackURLs"]
    assert "admin" in str(callback)
    assert of_type(template, "AWS::Cognito::UserPoolDomain")


def test_admin_page_url_output(template: dict[str, Any]) -> None:
    parts = template["Outputs"]["AdminPageUrl"]["Value"]["Fn::Join"][1]
    assert parts[0] == "https://"
    assert parts[1] == ref(logical_id(template, "Api/HttpApi/Resource"))
    assert parts[-1] == "/admin"
