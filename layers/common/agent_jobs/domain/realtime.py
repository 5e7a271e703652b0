"""Real time (DESIGN.md §15): who may listen to what on ``/api/realtime``, and the fan-out of events to them.

A connection subscribes to topics: ``job#<id>`` (the job's owner or an admin), ``user#<id>`` (scope mine),
``all`` and ``checkpoints`` (admins). An event goes to the listeners of its job, its owner, ``all``, and for a
checkpoint event ``checkpoints`` — once per connection, as the event's JSON. A non-owner asking for a job gets
the same error frame as for a job that does not exist. Frames are not sent past the token's expiry.

What it can lose: frames are sent once, while the connection is open. A client that was not connected, or whose
post failed (other than "gone", which removes the connection), gets no replay: it re-reads the job over HTTP.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import ValidationError

from agent_jobs.domain.auth import Principal
from agent_jobs.models.base import TooDeep, loads_bounded
from agent_jobs.models.job_events import Event
from agent_jobs.models.realtime import (
    ADMIN_SCOPES,
    MAX_FRAME_BYTES,
    RealtimeScope,
    SubscribeFrame,
    error_frame,
    subscribed_frame,
)
from agent_jobs.observability import logger
from agent_jobs.repositories.jobs import JobRepository
from agent_jobs.repositories.realtime import Listener, RealtimeRepository

MAX_TOPICS = 50  # subscriptions per connection
ALL_TOPIC = "all"
CHECKPOINTS_TOPIC = "checkpoints"
Post = Callable[[str, bytes], bool]  # (connection id, frame) -> False when the connection is gone


def job_topic(job_id: str) -> str:
    return f"job#{job_id}"


def user_topic(user_id: str) -> str:
    return f"user#{user_id}"


def topics_of(event: Event) -> list[str]:
    topics = [job_topic(str(event.data.job.get("id"))), user_topic(event.user_id), ALL_TOPIC]
    if event.type.value.startswith("checkpoint."):
        topics.append(CHECKPOINTS_TOPIC)
    return topics


def public_body(event: Event) -> dict[str, Any]:
    """What clients get (webhook body and WebSocket frame alike): the event without its routing fields."""
    return event.model_dump(mode="json", by_alias=True, exclude={"user_id"})


class RealtimeService:
    def __init__(self, connections: RealtimeRepository, jobs: JobRepository) -> None:
        self.connections = connections
        self.jobs = jobs

    def connect(self, connection_id: str, principal: Principal, token_expires: float | None) -> None:
        self.connections.connect(connection_id, principal.user_id, principal.is_admin, token_expires)

    def disconnect(self, connection_id: str) -> None:
        self.connections.disconnect(connection_id)

    def receive(self, connection_id: str, principal: Principal, body: str | None) -> dict[str, Any]:
        """One frame from the client → the answer frame (subscribed, or an error that names the problem)."""
        if body is None or len(body.encode()) > MAX_FRAME_BYTES:
            return error_frame("BAD_FRAME", f"send one JSON text frame of at most {MAX_FRAME_BYTES} bytes")
        try:
            frame = SubscribeFrame.model_validate(loads_bounded(body))
        except TooDeep:
            return error_frame("BAD_FRAME", "the frame is nested too deeply")
        except ValueError as exc:  # not JSON, or not a subscribe frame (ValidationError is a ValueError)
            return error_frame("BAD_FRAME", _frame_problem(exc))
        connection = self.connections.connection(connection_id)
        if connection is None:
            return error_frame("NOT_CONNECTED", "this connection is not known; reconnect")
        topic = self._topic(principal, frame)
        if isinstance(topic, dict):
            return topic
        if len(connection.topics or []) >= MAX_TOPICS and topic not in (connection.topics or []):
            return error_frame("TOO_MANY_SUBSCRIPTIONS", f"at most {MAX_TOPICS} subscriptions per connection")
        self.connections.subscribe(connection, topic)
        return subscribed_frame(frame)

    def _topic(self, principal: Principal, frame: SubscribeFrame) -> str | dict[str, Any]:
        if frame.job_id is not None:
            job = self.jobs.get(frame.job_id)
            if job is None or not principal.may_see(job.user_id):
                return error_frame("NOT_FOUND", f"job {frame.job_id} not found")
            return job_topic(frame.job_id)
        if frame.scope in ADMIN_SCOPES and not principal.is_admin:
            return error_frame("FORBIDDEN", f"scope {frame.scope} needs the admins group")
        if frame.scope is RealtimeScope.MINE:
            return user_topic(principal.user_id)
        return ALL_TOPIC if frame.scope is RealtimeScope.ALL else CHECKPOINTS_TOPIC

    def fan_out(self, events: Iterable[Event], post: Post) -> int:
        """Sends each event to every connection listening to one of its topics (once each); returns the frames
        sent. A gone or expired connection is removed; another failure is logged and that frame dropped."""
        listeners: dict[str, list[Listener]] = {}
        dropped: set[str] = set()
        sent = 0
        now = time.time()
        for event in events:
            frame = json.dumps(public_body(event), separators=(",", ":")).encode()
            seen: set[str] = set()
            for topic in topics_of(event):
                if topic not in listeners:
                    listeners[topic] = self.connections.listeners(topic)
                for listener in listeners[topic]:
                    if listener.connection_id in seen or listener.connection_id in dropped:
                        continue
                    seen.add(listener.connection_id)
                    if listener.token_expires is not None and listener.token_expires < now:
                        dropped.add(listener.connection_id)
                        continue
                    sent += self._post(post, listener.connection_id, frame, dropped)
        for connection_id in dropped:
            self.connections.disconnect(connection_id)
        return sent

    @staticmethod
    def _post(post: Post, connection_id: str, frame: bytes, dropped: set[str]) -> int:
        try:
            if post(connection_id, frame):
                return 1
            dropped.add(connection_id)
        except Exception as exc:
            logger.warning(
                "a real-time frame could not be sent", extra={"connection_id": connection_id, "error": str(exc)}
            )
        return 0


def _frame_problem(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        problems = []
        for item in exc.errors():
            where = ".".join(str(part) for part in item.get("loc", ())) or "frame"
            problems.append(f"{where}: {item.get('msg', 'invalid')}")
        return (
            "; ".join(problems)
            + ' (expected {"action": "subscribe", "jobId": "…"} or {"action": "subscribe", "scope": "mine"})'
        )
    return "the frame is not JSON"


def principal_of(authorizer: dict[str, Any] | None) -> Principal | None:
    """The caller from the $connect authorizer's context (API Gateway passes it on every route)."""
    from agent_jobs.domain.auth import principal_from_claims
    from agent_jobs.errors import Unauthorized

    try:
        return principal_from_claims(dict(authorizer or {}))
    except Unauthorized:
        return None
