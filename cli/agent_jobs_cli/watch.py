"""``watch``: follows one job until it is done, told by the real-time WebSocket when it can be, else by polling.

The loop is the same either way: read the job over HTTP, show it, stop when its status is terminal, then wait —
for the job's next event on the socket (re-reading every ``RESYNC_SECONDS`` anyway: frames go only to the
connections open at the time, DESIGN.md §15), or for a poll interval that grows while nothing changes. A socket
that cannot be opened, refuses the token or closes falls back to polling; the job is never read less often than
polling would.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol, TextIO
from urllib.parse import urlencode, urlsplit

from agent_jobs_cli import render
from agent_jobs_cli.outcomes import TERMINAL_STATUSES
from agent_jobs_cli.urls import is_loopback

FIRST_POLL_SECONDS = 0.5
MAX_POLL_SECONDS = 5.0
BACKOFF = 1.6
RESYNC_SECONDS = 10.0
CONNECT_SECONDS = 5.0
MAX_FRAME_BYTES = 128 * 1024  # API Gateway's WebSocket message limit


class Feed(Protocol):
    """The job's events: ``wait`` answers True when one arrived within ``timeout``; ``alive`` turns False for good
    when the socket is gone (the loop then polls)."""

    alive: bool

    def wait(self, timeout: float) -> bool: ...

    def close(self) -> None: ...


def next_poll(previous: float, changed: bool) -> float:
    """The next polling interval: back to the first after a change, else ``BACKOFF`` times longer, up to the max."""
    return FIRST_POLL_SECONDS if changed else min(previous * BACKOFF, MAX_POLL_SECONDS)


def follow(
    fetch: Callable[[], dict[str, Any]],
    show: Callable[[dict[str, Any]], None],
    feed: Feed | None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Reads and shows the job until its status is terminal; the last answer (``{"job": …, …}``)."""
    interval = FIRST_POLL_SECONDS
    seen: tuple[Any, ...] | None = None
    while True:
        answer = fetch()
        job = answer.get("job") or {}
        state = (job.get("status"), job.get("attempt"), job.get("progress"), job.get("progressMessage"))
        changed = state != seen
        seen = state
        show(job)
        if job.get("status") in TERMINAL_STATUSES:
            return answer
        if feed is not None and feed.alive:
            feed.wait(RESYNC_SECONDS)
            continue
        interval = next_poll(interval, changed)
        sleep(interval)


class SocketFeed:
    """One job's events from the WebSocket (``websockets``' sync client): subscribe, then wait for frames."""

    def __init__(self, connection: Any, job_id: str) -> None:
        self.connection = connection
        self.job_id = job_id
        self.alive = True

    @classmethod
    def open(cls, url: str, token: str, job_id: str) -> SocketFeed | None:
        """Subscribed to the job, or None when there is no socket to be had (no ``websockets``, refused, down)."""
        try:
            from websockets.sync.client import connect
        except ImportError:
            return None
        direct = is_loopback(urlsplit(url).hostname or "")
        try:
            connection = connect(
                f"{url}?{urlencode({'token': token})}",
                open_timeout=CONNECT_SECONDS,
                max_size=MAX_FRAME_BYTES,
                proxy=None if direct else True,
            )
        except Exception:  # refused (401), unreachable, a proxy in the way: polling works the same
            return None
        feed = cls(connection, job_id)
        try:
            connection.send(json.dumps({"action": "subscribe", "jobId": job_id}))
            answer = json.loads(connection.recv(timeout=CONNECT_SECONDS))
        except Exception:
            answer = None
        if not isinstance(answer, dict) or answer.get("type") != "subscribed":
            feed.close()
            return None
        return feed

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.alive:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                frame = json.loads(self.connection.recv(timeout=remaining))
            except TimeoutError:
                return False
            except ValueError:
                continue
            except Exception:  # closed (an expired token: 4401), reset
                self.alive = False
                return False
            if _is_event_of(frame, self.job_id):
                return True
        return False

    def close(self) -> None:
        self.alive = False
        with contextlib.suppress(Exception):
            self.connection.close()


def _is_event_of(frame: Any, job_id: str) -> bool:
    if not isinstance(frame, dict):
        return False
    data = frame.get("data")
    job = data.get("job") if isinstance(data, dict) else None
    return isinstance(job, dict) and job.get("id") == job_id


class Display:
    """A progress bar redrawn in place on a terminal; elsewhere one plain line per change (logs stay readable)."""

    def __init__(self, stream: TextIO | None = None, tty: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self._last = ""

    def show(self, job: dict[str, Any]) -> None:
        line = render.progress_bar(job) if self.tty else render.status_line(job)
        if line == self._last:
            return
        self._last = line
        if self.tty:
            self.stream.write(f"\r\x1b[2K{line}")
        else:
            self.stream.write(f"{line}\n")
        self.stream.flush()

    def end(self) -> None:
        if self.tty and self._last:
            self.stream.write("\n")
            self.stream.flush()
