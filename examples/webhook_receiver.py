"""An example webhook receiver: verifies each POST's Standard Webhooks signature, drops repeats by ``webhook-id``,
and prints the job events it gets (DESIGN.md §15).

    .venv/bin/python -m examples.webhook_receiver --secret whsec_... [--port 4100]

What a receiver must do, in order: read the raw body (the signature covers the exact bytes), verify the three
``webhook-*`` headers with the subscription's secret (a timestamp older than 5 minutes is refused too, against
replays), answer 2xx quickly (the platform retries on a timeout, 429 or 5xx for 24 hours), and treat a
``webhook-id`` seen before as done: a retry or a redelivery repeats an event with the same id.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler
from typing import Any

from agent_jobs.integrations.signing import verify
from local.http_server import BackgroundServer, LoopbackServer

DEFAULT_PORT = 4100
MAX_BODY_BYTES = 256 * 1024
REMEMBERED_IDS = 10_000  # de-duplication window (a real receiver keeps these in its database for a day or more)


class SeenIds:
    """The newest ``webhook-id`` values, bounded."""

    def __init__(self, size: int = REMEMBERED_IDS) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def first_time(self, webhook_id: str) -> bool:
        with self._lock:
            if webhook_id in self._ids:
                return False
            self._ids[webhook_id] = None
            if len(self._ids) > self._size:
                self._ids.popitem(last=False)
            return True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ReceiverServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY_BYTES:
            self._answer(413)
            return
        body = self.rfile.read(length)
        if not verify(self.server.secret, dict(self.headers.items()), body):
            print("refused: bad or stale signature", file=sys.stderr, flush=True)
            self._answer(401)
            return
        webhook_id = self.headers["webhook-id"]
        if not self.server.seen.first_time(webhook_id):
            print(f"repeat of {webhook_id}: already handled", flush=True)
            self._answer(200)
            return
        self.server.handle(json.loads(body))
        self._answer(204)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()


class _ReceiverServer(LoopbackServer):
    def __init__(self, port: int, secret: str) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.secret = secret
        self.seen = SeenIds()
        self.events: list[dict[str, Any]] = []

    def handle(self, event: dict[str, Any]) -> None:
        """What the receiver does with an event: here, keep it and print one line."""
        self.events.append(event)
        job = event.get("data", {}).get("job", {})
        print(f"{event.get('createdAt')}  {event.get('type'):<26} job {job.get('id')}  {job.get('status')}", flush=True)


class WebhookReceiver(BackgroundServer):
    def __init__(self, secret: str, port: int = 0) -> None:
        self.receiver = _ReceiverServer(port, secret)
        super().__init__(self.receiver, name="example-webhook-receiver")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def events(self) -> list[dict[str, Any]]:
        return list(self.receiver.events)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="An example receiver of Agent Jobs webhooks")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    parser.add_argument(
        "--secret", default=os.environ.get("WEBHOOK_SECRET"), help="the whsec_… secret (or $WEBHOOK_SECRET)"
    )
    args = parser.parse_args(argv)
    if not args.secret:
        parser.error("give --secret (the one POST /api/webhooks answered with) or set WEBHOOK_SECRET")
    receiver = WebhookReceiver(args.secret, args.port).start()
    print(f"receiving webhooks on {receiver.url} (Ctrl+C stops)", flush=True)
    receiver.serve_until_interrupted()


if __name__ == "__main__":
    main()
