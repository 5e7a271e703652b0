"""WebSocket connections and their subscriptions (``RealtimeRecord``): keys only, every item expiring by TTL."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from agent_jobs.repositories.tables import RealtimeRecord


def connection_topic(connection_id: str) -> str:
    return f"connection#{connection_id}"


@dataclass(frozen=True)
class Listener:
    """One connection subscribed to a topic."""

    connection_id: str
    user_id: str
    admin: bool
    token_expires: float | None


class RealtimeRepository:
    def __init__(self, lifetime_seconds: int) -> None:
        self.lifetime_seconds = lifetime_seconds

    def _expiry(self) -> timedelta:
        return timedelta(seconds=self.lifetime_seconds)

    def connect(self, connection_id: str, user_id: str, admin: bool, token_expires: float | None) -> None:
        RealtimeRecord(
            connection_topic(connection_id),
            connection_id,
            user_id=user_id,
            admin=admin,
            token_expires=token_expires,
            expires_at=self._expiry(),
        ).save()

    def connection(self, connection_id: str) -> RealtimeRecord | None:
        try:
            return RealtimeRecord.get(connection_topic(connection_id), connection_id)
        except RealtimeRecord.DoesNotExist:
            return None

    def subscribe(self, connection: RealtimeRecord, topic: str) -> None:
        """The subscription item, then the topic on the connection's own list (so disconnect finds it)."""
        RealtimeRecord(
            topic,
            connection.connection_id,
            user_id=connection.user_id,
            admin=connection.admin,
            token_expires=connection.token_expires,
            expires_at=self._expiry(),
        ).save()
        if topic not in (connection.topics or []):
            topics: list[Any] = [*(connection.topics or []), topic]
            connection.update(actions=[RealtimeRecord.topics.set(topics)])

    def listeners(self, topic: str) -> list[Listener]:
        now = time.time()
        return [
            Listener(record.connection_id, record.user_id, bool(record.admin), record.token_expires)
            for record in RealtimeRecord.query(topic)
            if record.expires_at is None or record.expires_at.timestamp() > now
        ]

    def disconnect(self, connection_id: str) -> None:
        """Every item of the connection (its subscriptions, then itself); a missing one is no error."""
        record = self.connection(connection_id)
        topics = list(record.topics or []) if record is not None else []
        with RealtimeRecord.batch_write() as batch:
            for topic in [*topics, connection_topic(connection_id)]:
                with contextlib.suppress(Exception):
                    batch.delete(RealtimeRecord(topic, connection_id))
