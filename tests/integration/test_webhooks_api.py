"""The webhook subscriptions API on moto (DESIGN.md §15): the secret once, the cap, bad URLs, ownership, scope."""

from __future__ import annotations

import base64
import json

import pytest

from tests.integration.conftest import Api

RECEIVER = "https://hooks.example.com/agent-jobs"  # resolved by the test's resolver below: a public address
EVENTS = ["job.completed", "job.failed"]


@pytest.fixture(autouse=True)
def _public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """hooks.example.com resolves to a public address (no network in tests); every other name as the system says."""
    from agent_jobs.integrations import ssrf

    real = ssrf.system_resolve

    def resolve(host: str, port: int) -> list[str]:
        return ["93.184.216.34"] if host == "hooks.example.com" else real(host, port)

    monkeypatch.setattr(ssrf, "system_resolve", resolve)


def _create(api: Api, **body: object) -> tuple[int, dict]:
    reply = api.post("/api/webhooks", {"url": RECEIVER, "events": EVENTS, **body})
    return reply.status, reply.body


def test_the_secret_is_shown_once_and_never_again(api: Api) -> None:
    status, body = _create(api, description="build notifications")
    assert status == 201
    webhook = body["webhook"]
    secret = webhook["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) == 24
    assert webhook["events"] == EVENTS and webhook["url"] == RECEIVER and webhook["scope"] == "mine"

    answers = [
        api.get("/api/webhooks"),
        api.get(f"/api/webhooks/{webhook['id']}"),
        api.call("PATCH", f"/api/webhooks/{webhook['id']}", {"description": "renamed"}),
        api.get(f"/api/webhooks/{webhook['id']}/deliveries"),
        api.delete(f"/api/webhooks/{webhook['id']}"),
    ]
    for answer in answers:
        assert answer.status == 200
        text = json.dumps(answer.body)
        assert secret not in text and '"secret"' not in text
    assert answers[2].body["webhook"]["description"] == "renamed"


def test_at_most_twenty_subscriptions_per_user(api: Api) -> None:
    for _ in range(20):
        assert _create(api)[0] == 201
    status, body = _create(api)
    assert status == 409 and "at most 20" in body["error"]["message"]
    assert len(api.get("/api/webhooks").body["webhooks"]) == 20
    assert _create(api.as_user("bob"))[0] == 201  # the cap is per user


@pytest.mark.parametrize(
    ("events", "field"),
    [(["job.exploded"], "events"), ([], "events"), ("job.completed", "events"), ([42], "events")],
)
def test_unknown_or_malformed_event_types_are_refused(api: Api, events: object, field: str) -> None:
    reply = api.post("/api/webhooks", {"url": RECEIVER, "events": events})
    assert reply.status == 400 and reply.body["error"]["field"].startswith(field)
    assert api.get("/api/webhooks").body["webhooks"] == []


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",  # http to a public host
        "https://10.0.0.7/hook",  # private
        "https://169.254.169.254/latest/meta-data",  # the metadata service
        "https://[fd00::1]/hook",  # unique local IPv6
        "https://user:pw@hooks.example.com/x",  # credentials in the URL
        "ftp://hooks.example.com/x",
        "http://127.0.0.1:9/hook",  # loopback: only where the local setting allows it
        "not a url",
    ],
)
def test_unsafe_urls_are_refused_and_nothing_is_written(api: Api, url: str) -> None:
    reply = api.post("/api/webhooks", {"url": url, "events": EVENTS})
    assert reply.status == 400, reply.body
    assert reply.body["error"]["code"] in {"UNSAFE_URL", "VALIDATION_ERROR"} and reply.body["error"]["field"] == "url"
    assert api.get("/api/webhooks").body["webhooks"] == []


def test_loopback_http_is_allowed_only_with_the_local_setting(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from agent_jobs.services import reset

    monkeypatch.setenv("ALLOW_LOOPBACK_HTTP_AGENTS", "true")
    reset()
    assert api.post("/api/webhooks", {"url": "http://127.0.0.1:9/hook", "events": EVENTS}).status == 201
    assert api.post("/api/webhooks", {"url": "http://10.0.0.7/hook", "events": EVENTS}).status == 400


def test_a_patch_with_an_unsafe_url_changes_nothing(api: Api) -> None:
    _, body = _create(api)
    webhook_id = body["webhook"]["id"]
    reply = api.call("PATCH", f"/api/webhooks/{webhook_id}", {"url": "https://10.0.0.7/x", "events": ["job.created"]})
    assert reply.status == 400
    assert api.get(f"/api/webhooks/{webhook_id}").body["webhook"]["events"] == EVENTS
    assert api.call("PATCH", f"/api/webhooks/{webhook_id}", {}).status == 400
    changed = api.call("PATCH", f"/api/webhooks/{webhook_id}", {"events": ["job.created"], "active": False})
    assert changed.status == 200 and changed.body["webhook"]["events"] == ["job.created"]
    assert changed.body["webhook"]["active"] is False


def test_another_users_subscription_answers_like_a_missing_one(api: Api) -> None:
    _, body = _create(api)
    webhook_id = body["webhook"]["id"]
    bob = api.as_user("bob")
    for reply in (
        bob.get(f"/api/webhooks/{webhook_id}"),
        bob.call("PATCH", f"/api/webhooks/{webhook_id}", {"description": "mine now"}),
        bob.delete(f"/api/webhooks/{webhook_id}"),
        bob.get(f"/api/webhooks/{webhook_id}/deliveries"),
        bob.post(f"/api/webhooks/{webhook_id}/deliveries/20260101000000000_abc/redeliver"),
    ):
        assert reply.status == 404, reply.body
    assert bob.get("/api/webhooks").body["webhooks"] == []
    assert api.get(f"/api/webhooks/{webhook_id}").body["webhook"]["description"] == ""
    assert api.as_user("root", admin=True).get(f"/api/webhooks/{webhook_id}").status == 404  # owner-scoped


def test_scope_all_is_for_admins(api: Api) -> None:
    status, body = _create(api, scope="all")
    assert status == 400 and body["error"]["field"] == "scope" and "admins" in body["error"]["message"]
    admin = api.as_user("root", admin=True)
    status, body = _create(admin, scope="all")
    assert status == 201 and body["webhook"]["scope"] == "all"
    assert [w["id"] for w in admin.get("/api/webhooks").body["webhooks"]] == [body["webhook"]["id"]]
    assert api.get("/api/webhooks").body["webhooks"] == []


def test_deleted_subscription_is_gone(api: Api) -> None:
    _, body = _create(api)
    webhook_id = body["webhook"]["id"]
    assert api.delete(f"/api/webhooks/{webhook_id}").status == 200
    assert api.get(f"/api/webhooks/{webhook_id}").status == 404
    assert api.get("/api/webhooks").body["webhooks"] == []
