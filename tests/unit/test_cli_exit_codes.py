"""Whole command lines against a fake API (an httpx transport that answers as the API does): exit codes, the
API's error message on stderr, sign-in and token renewal, and that no token or secret is ever printed."""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent_jobs_cli.__main__ import run
from agent_jobs_cli.credentials import MACHINE, USER, Credentials, CredentialStore

API = "http://127.0.0.1:3999"
COGNITO = "http://127.0.0.1:5999/"
Handler = Callable[[httpx.Request], httpx.Response]


def not_found(request: httpx.Request) -> httpx.Response:
    return httpx.Response(404, json={"success": False, "error": {"code": "NOT_FOUND", "message": "job nope not found"}})


@dataclass
class FakeApi:
    """Routes ``(method, path)`` to handlers; records every request."""

    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    seen: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        handler = self.routes.get((request.method, request.url.path), not_found)
        return handler(request)

    def on(self, method: str, path: str, answer: Handler | dict[str, Any], status: int = 200) -> None:
        self.routes[(method, path)] = answer if callable(answer) else (lambda _r: httpx.Response(status, json=answer))


@dataclass
class Outcome:
    code: int
    out: str
    err: str


@pytest.fixture
def api() -> FakeApi:
    fake = FakeApi()
    fake.on("GET", "/admin/config.json", {"cognitoEndpoint": COGNITO, "clientId": "app-client", "realtimeUrl": ""})
    return fake


@pytest.fixture
def store(tmp_path: Path) -> CredentialStore:
    return CredentialStore(tmp_path / "agent-jobs" / "credentials.json")


def cli(
    api: FakeApi, store: CredentialStore, *argv: str, env: dict[str, str] | None = None, stdin: str = ""
) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    with httpx.Client(transport=httpx.MockTransport(api)) as http:
        code = run(argv, env=env or {}, http=http, out=out, err=err, stdin=io.StringIO(stdin), store=store)
    return Outcome(code, out.getvalue(), err.getvalue())


def signed_in(store: CredentialStore, token: str = "id-token-1", expires_in: float = 3600) -> None:
    store.put(
        Credentials(
            API,
            USER,
            token,
            time.time() + expires_in,
            "app-client",
            username="user",
            refresh_token="refresh-1",
            cognito_endpoint=COGNITO,
        )
    )


def test_no_api_and_no_sign_in_exit_3(api: FakeApi, store: CredentialStore) -> None:
    nothing = cli(api, store, "list")
    assert nothing.code == 3 and "login --api" in nothing.err
    unknown = cli(api, store, "--api", API, "list")
    assert unknown.code == 3 and f"not signed in to {API}" in unknown.err
    assert api.seen == []  # no request without a token


def test_an_unknown_job_exits_1_with_the_apis_message(api: FakeApi, store: CredentialStore) -> None:
    signed_in(store)
    plain = cli(api, store, "get", "nope")
    assert plain.code == 1
    assert plain.err == "agent-jobs: job nope not found\n"
    scripted = cli(api, store, "get", "nope", "--json")
    assert scripted.code == 1 and json.loads(scripted.out)["error"]["code"] == "NOT_FOUND"
    assert api.seen[-1].headers["authorization"] == "Bearer id-token-1"


def test_a_refused_token_exits_3(api: FakeApi, store: CredentialStore) -> None:
    api.on("GET", "/api/jobs", {"success": False, "error": {"code": "UNAUTHORIZED", "message": "bad token"}}, 401)
    refused = cli(api, store, "--api", API, "list", env={"AGENT_JOBS_TOKEN": "garbage"})
    assert refused.code == 3 and "bad token" in refused.err
    assert len(api.seen) == 1  # a static token has nothing to renew it with: asked once


def test_a_non_admin_decision_exits_3(api: FakeApi, store: CredentialStore) -> None:
    signed_in(store)
    api.on(
        "POST",
        "/api/admin/agent-checkpoints/cp-1",
        {"success": False, "error": {"code": "FORBIDDEN", "message": "admins only"}},
        403,
    )
    assert cli(api, store, "approve", "cp-1").code == 3


def cognito(results: list[dict[str, Any]], calls: list[dict[str, Any]]) -> Handler:
    def answer(request: httpx.Request) -> httpx.Response:
        calls.append({"target": request.headers["x-amz-target"], **json.loads(request.content)})
        return httpx.Response(200, json=results.pop(0))

    return answer


def test_an_expiring_session_is_refreshed_before_the_call_and_saved(api: FakeApi, store: CredentialStore) -> None:
    signed_in(store, expires_in=10)  # inside the margin
    calls: list[dict[str, Any]] = []
    api.on("POST", "/", cognito([{"AuthenticationResult": {"IdToken": "id-token-2", "ExpiresIn": 3600}}], calls))
    api.on("GET", "/api/jobs", {"success": True, "jobs": [], "nextToken": None})
    listed = cli(api, store, "list")
    assert listed.code == 0 and listed.out == "no jobs\n"
    assert calls == [
        {
            "target": "AWSCognitoIdentityProviderService.InitiateAuth",
            "AuthFlow": "REFRESH_TOKEN_AUTH",
            "ClientId": "app-client",
            "AuthParameters": {"REFRESH_TOKEN": "refresh-1", "USERNAME": "user"},
        }
    ]
    assert api.seen[-1].headers["authorization"] == "Bearer id-token-2"
    saved = store.get(API)
    assert saved is not None and saved.token == "id-token-2" and saved.refresh_token == "refresh-1"
    assert "id-token" not in listed.out + listed.err


def test_a_401_renews_once_then_gives_up(api: FakeApi, store: CredentialStore) -> None:
    signed_in(store)
    calls: list[dict[str, Any]] = []
    api.on("POST", "/", cognito([{"AuthenticationResult": {"IdToken": "id-token-2", "ExpiresIn": 3600}}], calls))
    api.on("GET", "/api/jobs/j-1", {"success": False, "error": {"code": "UNAUTHORIZED", "message": "expired"}}, 401)
    refused = cli(api, store, "get", "j-1")
    assert refused.code == 3 and len(calls) == 1
    tokens = [r.headers["authorization"] for r in api.seen if r.url.path == "/api/jobs/j-1"]
    assert tokens == ["Bearer id-token-1", "Bearer id-token-2"]


def test_a_refresh_the_pool_refuses_asks_to_log_in_again(api: FakeApi, store: CredentialStore) -> None:
    signed_in(store, expires_in=0)
    api.on("POST", "/", {"__type": "NotAuthorizedException", "message": "Refresh Token has expired"}, 400)
    expired = cli(api, store, "list")
    assert expired.code == 3 and "run agent-jobs login" in expired.err


def test_a_person_logs_in_with_the_pool_the_api_publishes(api: FakeApi, store: CredentialStore) -> None:
    calls: list[dict[str, Any]] = []
    result = {
        "IdToken": "id-secret",
        "AccessToken": "access-secret",
        "RefreshToken": "refresh-secret",
        "ExpiresIn": 3600,
    }
    api.on("POST", "/", cognito([{"AuthenticationResult": result}], calls))
    done = cli(api, store, "login", "--api", f"{API}/", "--username", "user", "--password-stdin", stdin="pw-1\n")
    assert done.code == 0, done.err
    assert calls[0]["AuthParameters"] == {"USERNAME": "user", "PASSWORD": "pw-1"}
    assert calls[0]["AuthFlow"] == "USER_PASSWORD_AUTH" and calls[0]["ClientId"] == "app-client"
    assert f"signed in to {API} as user" in done.out
    assert "secret" not in done.out + done.err and "pw-1" not in done.out + done.err
    saved = store.get(API)
    assert saved is not None and saved.token == "id-secret" and saved.refresh_token == "refresh-secret"
    assert store.current_api() == API


def test_a_wrong_password_exits_3(api: FakeApi, store: CredentialStore) -> None:
    api.on("POST", "/", {"__type": "NotAuthorizedException", "message": "Incorrect username or password."}, 400)
    wrong = cli(api, store, "login", "--api", API, "--username", "user", "--password-stdin", stdin="nope\n")
    assert wrong.code == 3 and "incorrect username or password" in wrong.err
    assert store.get(API) is None


def test_a_password_is_never_sent_in_clear_text_across_a_network(api: FakeApi, store: CredentialStore) -> None:
    api.on("GET", "/admin/config.json", {"cognitoEndpoint": "http://cognito.example.com/", "clientId": "c"})
    refused = cli(api, store, "login", "--api", API, "--username", "u", "--password-stdin", stdin="pw\n")
    assert refused.code == 2 and "https://" in refused.err
    assert [r.url.path for r in api.seen] == ["/admin/config.json"]


def test_a_machine_client_logs_in_and_gets_a_new_token_when_it_expires(api: FakeApi, store: CredentialStore) -> None:
    issued = iter(["access-1", "access-2"])
    forms: list[tuple[str, str]] = []

    def token_endpoint(request: httpx.Request) -> httpx.Response:
        forms.append((request.headers["authorization"], request.content.decode()))
        return httpx.Response(200, json={"access_token": next(issued), "token_type": "Bearer", "expires_in": 3600})

    api.on("POST", "/oauth2/token", token_endpoint)
    env = {"AGENT_JOBS_CLIENT_SECRET": "s3cret"}
    done = cli(api, store, "login", "--api", API, "--client-id", "ci-bot", "--scope", "agent-jobs/jobs.read", env=env)
    assert done.code == 0, done.err
    basic = "Basic " + base64.b64encode(b"ci-bot:s3cret").decode()
    assert forms == [(basic, "grant_type=client_credentials&scope=agent-jobs%2Fjobs.read")]
    assert "s3cret" not in done.out + done.err and "access-1" not in done.out + done.err
    saved = store.get(API)
    assert saved is not None and saved.kind == MACHINE and saved.token == "access-1"
    saved.expires_at = 0
    store.put(saved)
    api.on("GET", "/api/jobs", {"success": True, "jobs": [], "nextToken": None})
    assert cli(api, store, "list").code == 0
    assert api.seen[-1].headers["authorization"] == "Bearer access-2"


def test_a_refused_machine_client_exits_3(api: FakeApi, store: CredentialStore) -> None:
    api.on("POST", "/oauth2/token", {"error": "invalid_client", "error_description": "unknown client"}, 401)
    refused = cli(api, store, "login", "--api", API, "--client-id", "x", env={"AGENT_JOBS_CLIENT_SECRET": "y"})
    assert refused.code == 3 and "unknown client" in refused.err


@pytest.mark.parametrize(
    ("status", "code"),
    [("COMPLETED", 0), ("FAILED", 1), ("REJECTED", 1), ("CANCELLED", 1), ("RESUBMISSION_REQUIRED", 2)],
)
def test_watch_exits_by_outcome(api: FakeApi, store: CredentialStore, status: str, code: int) -> None:
    signed_in(store)
    answer = {"success": True, "job": {"id": "j-1", "status": status, "result": {"ok": True}}, "timeline": []}
    api.on("GET", "/api/jobs/j-1", answer)
    watched = cli(api, store, "watch", "j-1", "--poll")
    assert watched.code == code
    assert f"j-1 {status}" in watched.out
    scripted = cli(api, store, "watch", "j-1", "--poll", "--json")
    assert scripted.code == code and json.loads(scripted.out) == answer  # one document: the API's answer


def test_watch_an_unknown_job_exits_1(api: FakeApi, store: CredentialStore) -> None:
    signed_in(store)
    gone = cli(api, store, "watch", "nope", "--poll")
    assert gone.code == 1 and "job nope not found" in gone.err


def test_list_all_follows_next_token_and_stops_on_a_repeat(api: FakeApi, store: CredentialStore) -> None:
    signed_in(store)
    pages = {None: ("t1", ["a"]), "t1": ("t2", ["b"]), "t2": ("t1", ["c"])}  # t2 points back at t1

    def listing(request: httpx.Request) -> httpx.Response:
        token, ids = pages[request.url.params.get("nextToken")]
        jobs = [{"id": i, "status": "PENDING"} for i in ids]
        return httpx.Response(200, json={"success": True, "jobs": jobs, "nextToken": token})

    api.on("GET", "/api/jobs", listing)
    listed = cli(api, store, "list", "--all", "--json", "--status", "PENDING", "--tag", "team:a", "--limit", "1")
    assert listed.code == 0
    assert [j["id"] for j in json.loads(listed.out)["jobs"]] == ["a", "b", "c"]
    assert dict(api.seen[0].url.params) == {"status": "PENDING", "tag": "team:a", "limit": "1"}


def test_create_sends_the_body_with_an_idempotency_key(api: FakeApi, store: CredentialStore, tmp_path: Path) -> None:
    signed_in(store)
    api.on("POST", "/api/jobs", {"success": True, "job": {"id": "j-9", "status": "PENDING", "name": "n"}}, 201)
    inputs = tmp_path / "input.json"
    inputs.write_text('{"userId": "u-1"}')
    created = cli(api, store, "create", "--description", "d", "--input", f"@{inputs}", "--tag", "team:a")
    assert created.code == 0 and created.out == "created job j-9 (PENDING): n\n"
    request = api.seen[-1]
    assert json.loads(request.content) == {"description": "d", "inputData": {"userId": "u-1"}, "tags": ["team:a"]}
    assert request.headers["idempotency-key"]


def test_a_token_url_the_api_publishes_is_used(api: FakeApi, store: CredentialStore) -> None:
    api.on(
        "GET", "/admin/config.json", {"cognitoEndpoint": COGNITO, "clientId": "c", "tokenUrl": f"{API}/cognito/token"}
    )
    api.on("POST", "/cognito/token", {"access_token": "a-1", "token_type": "Bearer", "expires_in": 60})
    done = cli(api, store, "login", "--api", API, "--client-id", "x", env={"AGENT_JOBS_CLIENT_SECRET": "y"})
    assert done.code == 0, done.err
    saved = store.get(API)
    assert saved is not None and saved.token_url == f"{API}/cognito/token"
