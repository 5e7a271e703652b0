"""The agent and judge the in-process benchmarks talk to: real HTTP servers on loopback with a set delay."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local.openai_compat import OpenAICompatServer, Reply, offline_judge_responder

OUTPUT_SCHEMA = {
    "type": "object",
    "required": ["result", "summary"],
    "properties": {"result": {"type": "object"}, "summary": {"type": "string"}},
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log."""

    def do_POST(self) -> None:
        received = time.perf_counter()
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
        self.server.record(received, body)
        if self.server.delay:
            time.sleep(self.server.delay)
        given = body.get("input") if isinstance(body, dict) else None
        answer = json.dumps({"result": given if isinstance(given, dict) else {}, "summary": "done"}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(answer)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, delay: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.delay = delay
        self.lock = threading.Lock()
        self.received: list[tuple[float, str, int]] = []  # (perf_counter, jobId, attempt)

    def record(self, at: float, body: dict[str, Any]) -> None:
        with self.lock:
            self.received.append((at, str(body.get("jobId")), int(body.get("attempt") or 0)))


class DelayedAgent:
    """An agent that answers ``{"result": <its input>, "summary": "done"}`` after ``delay`` seconds."""

    def __init__(self, delay: float = 0.0) -> None:
        self._server = _Server(delay)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/agent"

    @property
    def delay(self) -> float:
        return self._server.delay

    @delay.setter
    def delay(self, seconds: float) -> None:
        self._server.delay = seconds

    def received(self) -> list[tuple[float, str, int]]:
        with self._server.lock:
            return list(self._server.received)

    def __enter__(self) -> DelayedAgent:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def judge_server(delay: float = 0.0) -> OpenAICompatServer:
    """The offline judge stand-in (passes any non-empty JSON object), answering after ``delay`` seconds."""

    def respond(request: dict[str, Any]) -> Reply:
        return replace(offline_judge_responder(request), delay_seconds=delay)

    return OpenAICompatServer(respond)
