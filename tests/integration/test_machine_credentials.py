"""Issue 18 item 6 on the local stack's own parts: ``make client``'s client-credentials app client on the
(moto) user pool, the stand-in ``POST /oauth2/token`` on the real local gateway, its tokens verified by the
gateway's JWT verifier, and the route table's scopes enforced by the handlers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest

from agent_jobs.catalog import Scope
from local.client import create_client
from local.cognito import UserPool, create_demo_users, create_pool
from local.gateway import Gateway
from local.http_server import BackgroundServer, LoopbackServer
from local.jwt_auth import JwtVerifier
from local.oauth import TOKEN_PATH, TokenEndpoint


class _Jwks(BaseHTTPRequestHandler):
    """The pool's JWKS, as moto's server publishes it (moto in-process serves no HTTP)."""

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log."""

    def do_GET(self) -> None:
        from moto.utilities.utils import load_resource

        body = json.dumps(load_resource("cognitoidp/resources/jwks-public.json")).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def pool(aws: dict[str, str]) -> UserPool:
    return create_pool(region="us-east-1", endpoint_url="https://cognito-idp.us-east-1.amazonaws.com")  # mocked


@pytest.fixture
def gateway(pool: UserPool) -> Iterator[str]:
    with BackgroundServer(LoopbackServer(("127.0.0.1", 0), _Jwks), name="jwks") as jwks:
        endpoint = TokenEndpoint(pool)
        verifier = JwtVerifier(
            f"http://127.0.0.1:{jwks.port}/jwks.json", pool.issuer, [pool.client_id], machine_client=endpoint.knows
        )
        with Gateway(0, verifier, access_log=False, token_endpoint=endpoint) as running:
            yield running.url


def _token(gateway: str, client: dict[str, Any], **form: str) -> httpx.Response:
    return httpx.post(
        gateway + TOKEN_PATH,
        data={"grant_type": "client_credentials", **form},
        auth=(client["clientId"], client["clientSecret"]),
        trust_env=False,
    )


def _call(gateway: str, method: str, path: str, token: str, body: Any = None) -> httpx.Response:
    return httpx.request(
        method, gateway + path, json=body, headers={"authorization": f"Bearer {token}"}, trust_env=False, timeout=30
    )


def test_a_machine_client_gets_a_token_and_its_scopes_decide(pool: UserPool, gateway: str) -> None:
    client = create_client(pool, "ci", [Scope.READ.value])
    assert client["clientId"] and len(client["clientSecret"]) >= 20
    answer = _token(gateway, client)
    assert answer.status_code == 200, answer.text
    token = answer.json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600
    access = token["access_token"]

    listed = _call(gateway, "GET", "/api/jobs", access)
    assert listed.status_code == 200 and listed.json()["jobs"] == []  # jobs.read: reading is allowed
    refused = _call(gateway, "POST", "/api/jobs", access, {"description": "Summarise the report"})
    assert refused.status_code == 403 and Scope.WRITE.value in refused.json()["error"]["message"]
    assert _call(gateway, "GET", "/api/admin/audit", access).status_code == 403

    writer = create_client(pool, "writer", [Scope.READ.value, Scope.WRITE.value])
    write_token = _token(gateway, writer, scope=Scope.WRITE.value).json()["access_token"]  # asks for less
    created = _call(gateway, "POST", "/api/jobs", write_token, {"description": "Summarise", "autoAssign": False})
    assert created.status_code == 201, created.text
    assert created.json()["job"]["userId"] == f"client:{writer['clientId']}"  # the program owns its jobs
    assert _call(gateway, "GET", "/api/jobs", write_token).status_code == 403  # only the scope it asked for

    admin = create_client(pool, "ops", [Scope.ADMIN.value])
    admin_token = _token(gateway, admin).json()["access_token"]
    assert _call(gateway, "GET", "/api/admin/audit", admin_token).status_code == 200
    assert _call(gateway, "GET", "/api/jobs", admin_token).status_code == 403  # admin scope is for admin routes


def test_the_token_endpoint_refuses_what_cognito_refuses(pool: UserPool, gateway: str) -> None:
    client = create_client(pool, "ci", [Scope.READ.value])
    wrong = {**client, "clientSecret": "not-the-secret"}
    assert _token(gateway, wrong).json()["error"] == "invalid_client"
    assert _token(gateway, wrong).status_code == 401
    unknown = {**client, "clientId": "nobody"}
    assert _token(gateway, unknown).status_code == 401
    no_auth = httpx.post(gateway + TOKEN_PATH, data={"grant_type": "client_credentials"}, trust_env=False)
    assert no_auth.status_code == 401
    assert _token(gateway, client, grant_type="password").json()["error"] == "unsupported_grant_type"
    assert _token(gateway, client, scope=Scope.ADMIN.value).json()["error"] == "invalid_scope"
    in_form = httpx.post(
        gateway + TOKEN_PATH,
        data={
            "grant_type": "client_credentials",
            "client_id": client["clientId"],
            "client_secret": client["clientSecret"],
        },
        trust_env=False,
    )
    assert in_form.status_code == 200  # client_secret_post works too


def test_a_peoples_app_client_cannot_mint_machine_tokens(pool: UserPool, gateway: str) -> None:
    people = pool.client().describe_user_pool_client(UserPoolId=pool.pool_id, ClientId=pool.client_id)
    assert "ClientSecret" not in people["UserPoolClient"]  # a public client: nothing to authenticate with
    machine = create_client(pool, "ci", [Scope.READ.value])
    pool.client().update_user_pool_client(
        UserPoolId=pool.pool_id, ClientId=machine["clientId"], AllowedOAuthFlows=["code"], AllowedOAuthScopes=[]
    )
    assert _token(gateway, machine).json()["error"] == "unauthorized_client"


def test_a_persons_token_is_judged_by_its_groups_not_by_scopes(pool: UserPool, gateway: str) -> None:
    tokens = create_demo_users(pool)
    assert (
        _call(gateway, "POST", "/api/jobs", tokens["user"], {"description": "d", "autoAssign": False}).status_code
        == 201
    )
    assert _call(gateway, "GET", "/api/admin/audit", tokens["user"]).status_code == 403
    assert _call(gateway, "GET", "/api/admin/audit", tokens["admin"]).status_code == 200


def test_create_client_refuses_unknown_scopes(pool: UserPool) -> None:
    with pytest.raises(ValueError, match="unknown scopes"):
        create_client(pool, "ci", ["agent-jobs/everything"])
