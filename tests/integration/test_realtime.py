"""Real time over a real WebSocket (the ``websockets`` client) against the local gateway, on moto: the token on
connect, subscribe frames, ownership, the fan-out from ``deliver(events)`` through post_to_connection, close 4401."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from agent_jobs.domain.subscribers import deliver
from agent_jobs.models.base import utc_now
from agent_jobs.models.job_events import Event, EventData, EventType
from local.gateway import Gateway
from local.jwt_auth import JwtVerifier
from tests.fixtures.token_issuer import CLIENT_ID, TokenIssuer
from tests.integration.conftest import Api


@dataclass
class Realtime:
    gateway: Gateway
    issuer: TokenIssuer

    def open(self, user: str, *, admin: bool = False, lifetime: float = 3600) -> ClientConnection:
        token = self.issuer.token(user, admin=admin, lifetime=lifetime)
        return connect(f"{self.gateway.realtime_url}?token={token}", open_timeout=5, close_timeout=2)


@pytest.fixture
def realtime(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Realtime]:
    from agent_jobs.services import reset

    with TokenIssuer() as issuer:
        verifier = JwtVerifier(issuer.jwks_url, issuer.issuer, [CLIENT_ID])
        with Gateway(0, verifier, access_log=False) as gateway:
            monkeypatch.setenv("REALTIME_CALLBACK_URL", gateway.url)
            reset()
            yield Realtime(gateway, issuer)


def event(job_id: str, user: str, kind: str = "job.status_changed", version: int = 1) -> Event:
    return Event(
        id=f"{job_id}:v{version}:{kind}",
        type=EventType(kind),
        created_at=utc_now(),
        user_id=user,
        data=EventData(job={"id": job_id, "userId": user, "status": "IN_PROGRESS"}),
    )


def ask(client: ClientConnection, frame: Any) -> dict[str, Any]:
    client.send(frame if isinstance(frame, str) else json.dumps(frame))
    answer: dict[str, Any] = json.loads(client.recv(timeout=5))
    return answer


def frames(client: ClientConnection, wait: float = 0.5) -> list[dict[str, Any]]:
    """Every frame that arrives within ``wait`` seconds of the last one."""
    got = []
    while True:
        try:
            got.append(json.loads(client.recv(timeout=wait)))
        except TimeoutError:
            return got


def test_no_token_or_a_bad_one_is_refused_with_401(realtime: Realtime) -> None:
    url = realtime.gateway.realtime_url
    other = TokenIssuer()  # signed by a key the pool does not have
    for target in (url, f"{url}?token=garbage", f"{url}?token={other.token('mallory')}"):
        with pytest.raises(InvalidStatus) as refused:
            connect(target, open_timeout=5)
        assert refused.value.response.status_code == 401


def test_a_user_sees_their_own_jobs_events_as_json_frames(realtime: Realtime) -> None:
    with realtime.open("alice") as alice:
        assert ask(alice, {"action": "subscribe", "scope": "mine"}) == {"type": "subscribed", "scope": "mine"}
        mine, theirs = event("job1", "alice"), event("job2", "bob")
        deliver([mine, theirs])
        got = frames(alice)
    assert got == [
        {"id": mine.id, "type": "job.status_changed", "createdAt": mine.created_at, "data": mine.data.to_api()}
    ]


def test_a_job_subscription_needs_the_job_to_be_yours(realtime: Realtime, api: Api) -> None:
    job = api.post("/api/jobs", {"taskDescription": "x", "autoAssign": False}).body["job"]
    with realtime.open("alice") as alice, realtime.open("bob") as bob, realtime.open("root", admin=True) as admin:
        assert ask(alice, {"action": "subscribe", "jobId": job["id"]}) == {"type": "subscribed", "jobId": job["id"]}
        refused = ask(bob, {"action": "subscribe", "jobId": job["id"]})
        missing = ask(bob, {"action": "subscribe", "jobId": "no-such-job"})
        assert refused["type"] == missing["type"] == "error"
        assert refused["error"]["code"] == missing["error"]["code"] == "NOT_FOUND"
        assert refused["error"]["message"].replace(job["id"], "?") == missing["error"]["message"].replace(
            "no-such-job", "?"
        )
        assert ask(admin, {"action": "subscribe", "jobId": job["id"]})["type"] == "subscribed"

        deliver([event(job["id"], "alice")])
        assert [f["data"]["job"]["id"] for f in frames(alice)] == [job["id"]]
        assert frames(bob, 0.3) == []  # nothing leaked
        assert len(frames(admin)) == 1


def test_admin_scopes(realtime: Realtime) -> None:
    with realtime.open("alice") as alice, realtime.open("root", admin=True) as admin:
        for scope in ("all", "checkpoints"):
            answer = ask(alice, {"action": "subscribe", "scope": scope})
            assert answer["type"] == "error" and answer["error"]["code"] == "FORBIDDEN"
        assert ask(admin, {"action": "subscribe", "scope": "checkpoints"})["type"] == "subscribed"
        deliver([event("job1", "alice"), event("job1", "alice", "checkpoint.pending", 2)])
        assert [f["type"] for f in frames(admin)] == ["checkpoint.pending"]
        assert ask(admin, {"action": "subscribe", "scope": "all"})["type"] == "subscribed"
        deliver([event("job3", "bob")])
        assert [f["data"]["job"]["id"] for f in frames(admin)] == ["job3"]
        assert frames(alice, 0.3) == []


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[1, 2]",
        json.dumps({"action": "subscribe"}),
        json.dumps({"action": "subscribe", "jobId": "a", "scope": "mine"}),
        json.dumps({"action": "subscribe", "scope": "everything"}),
        json.dumps({"action": "subscribe", "jobId": "../etc"}),
        json.dumps({"action": "unsubscribe", "scope": "mine"}),
        json.dumps({"action": "subscribe", "scope": "mine", "extra": 1}),
        "[" * 100 + "]" * 100,
        json.dumps({"action": "subscribe", "jobId": "x" * 5000}),
    ],
)
def test_malformed_frames_get_an_error_frame_and_the_connection_stays(realtime: Realtime, frame: str) -> None:
    with realtime.open("alice") as alice:
        answer = ask(alice, frame)
        assert answer["type"] == "error" and answer["error"]["code"] == "BAD_FRAME", answer
        assert ask(alice, {"action": "subscribe", "scope": "mine"})["type"] == "subscribed"


def test_one_frame_per_event_however_many_subscriptions_match(realtime: Realtime, api: Api) -> None:
    job = api.post("/api/jobs", {"taskDescription": "x", "autoAssign": False}).body["job"]
    with realtime.open("alice") as alice:
        ask(alice, {"action": "subscribe", "scope": "mine"})
        ask(alice, {"action": "subscribe", "jobId": job["id"]})
        deliver([event(job["id"], "alice")])
        assert len(frames(alice)) == 1


def test_an_expired_token_closes_the_socket_with_4401(realtime: Realtime) -> None:
    # A JWT's exp is whole seconds, so a lifetime of 3 s leaves 2-3 s: room for a slow connect on a loaded machine.
    # The close is awaited up to 30 s in all, not 1 s per frame: the subscribe's answer may come quickly and the
    # close only when the token runs out.
    with realtime.open("alice", lifetime=3) as alice:
        alice.send(json.dumps({"action": "subscribe", "scope": "mine"}))
        deadline = time.monotonic() + 30
        with pytest.raises(ConnectionClosed):
            while True:
                alice.recv(timeout=max(deadline - time.monotonic(), 0))
        assert alice.close_code == 4401
    with pytest.raises(InvalidStatus) as refused:
        realtime.open("alice", lifetime=-10)
    assert refused.value.response.status_code == 401


def test_a_closed_connection_is_forgotten(realtime: Realtime) -> None:
    from agent_jobs.repositories.realtime import RealtimeRepository

    with realtime.open("alice") as alice:
        ask(alice, {"action": "subscribe", "scope": "mine"})
    time.sleep(0.3)  # the gateway runs $disconnect
    assert RealtimeRepository(60).listeners("user#alice") == []
    deliver([event("job1", "alice")])  # nobody to tell: no error


def test_the_cloud_connect_authorizer_verifies_the_cognito_jwt(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """API Gateway's WebSocket API has no JWT authorizer: functions/realtime answers its REQUEST authorizer."""
    from agent_jobs.services import reset
    from functions.realtime.handler import handler
    from local.lambda_runtime import LocalContext

    with TokenIssuer() as issuer, TokenIssuer() as stranger:
        monkeypatch.setenv("COGNITO_USER_POOL_ID", "pool")
        monkeypatch.setenv("COGNITO_ISSUER_URL", issuer.issuer)
        monkeypatch.setenv("COGNITO_CLIENT_IDS", f"other,{CLIENT_ID}")
        reset()
        arn = "arn:aws:execute-api:us-east-1:123456789012:abc/live/$connect"

        def authorize(token: str | None) -> dict[str, Any]:
            query = {"token": token} if token is not None else None
            answer: dict[str, Any] = handler(
                {"type": "REQUEST", "methodArn": arn, "queryStringParameters": query}, LocalContext("realtime")
            )
            return answer

        allowed = authorize(issuer.token("root", admin=True))
        assert allowed["principalId"] == "root"
        assert allowed["policyDocument"]["Statement"][0] == {
            "Action": "execute-api:Invoke",
            "Effect": "Allow",
            "Resource": arn,
        }
        assert allowed["context"]["cognito:groups"] == "[admins]" and float(allowed["context"]["exp"]) > time.time()
        for bad in (
            None,
            "garbage",
            stranger.token("root", admin=True),  # another pool's key
            issuer.token("root", client_id="someone-elses-app"),
            issuer.token("root", lifetime=-60),  # expired
        ):
            with pytest.raises(Exception, match=r"^Unauthorized$"):
                authorize(bad)

        context = {"principalId": "root", **allowed["context"]}
        connected = handler(
            {"requestContext": {"routeKey": "$connect", "connectionId": "c1", "authorizer": context}},
            LocalContext("realtime"),
        )
        assert connected == {"statusCode": 200}
        frame = {"requestContext": {"routeKey": "subscribe", "connectionId": "c1", "authorizer": context}}
        answer = handler(
            {**frame, "body": json.dumps({"action": "subscribe", "scope": "all"})}, LocalContext("realtime")
        )
        assert json.loads(answer["body"]) == {"type": "subscribed", "scope": "all"}
