"""The example agents as a real HTTP server: ``POST /<job type>`` per agent, Standard Webhooks signature checked
with that agent's secret (401 when it does not match, or is older than 5 minutes).

    GET  /            the agents (name, job type, schemas; never secrets)
    GET  /health      200 {"ok": true}
    GET  /requests    the last requests received (jobId, attempt, jobType, signature verdict) — for debugging
    GET  /callbacks   the last callbacks the async agent sent (jobId, attempt, status, the platform's HTTP answer)
    POST /simple-task | /code-generation | /data-processing | /long-task

``/long-task`` is async (DESIGN.md §14): given a ``callbackUrl`` it answers **202 Accepted** at once, then, from
a thread, POSTs ``{"status": "working", "progress", "message"}`` after each step and finally
``{"status": "completed", "output"}`` to that URL, each signed with its own secret (Standard Webhooks). Its
steps take ``step_seconds`` times the server's ``time_scale`` (the local stack's ``AGENT_JOBS_AGENT_TIME_SCALE``),
so tests run it in a moment. Without a ``callbackUrl`` (the registry's onboarding check) it answers at once.

The local stack starts it in-process and registers each agent through the admin API. Standalone:

    python -m examples.agents.server --port 4001 --secret <at least 16 characters>

(then register each agent with ``POST /api/admin/agents``, endpointUrl ``http://127.0.0.1:4001/<type>``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx

from agent_jobs.integrations.signing import sign_headers, verify
from examples.agents.definitions import AGENTS, AGENTS_BY_TYPE, AgentDefinition
from local.http_server import BackgroundServer, LoopbackServer

HOST = "127.0.0.1"
DEFAULT_PORT = 4001
MAX_BODY_BYTES = 1024 * 1024
RECENT_REQUESTS = 200
CALLBACK_TRIES = 3  # a callback that cannot connect or gets a 5xx is sent again (same webhook-id)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30
    server: _AgentsHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log."""

    def _send(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "":
            agents = [
                {
                    "jobType": agent.job_type,
                    "name": agent.name,
                    "description": agent.description,
                    "path": f"/{agent.job_type}",
                    "inputSchema": agent.input_schema,
                    "outputSchema": agent.output_schema,
                }
                for agent in AGENTS
            ]
            self._send(200, {"agents": agents})
        elif path == "/health":
            self._send(200, {"ok": True})
        elif path == "/requests":
            self._send(200, {"requests": self.server.recent()})
        elif path == "/callbacks":
            self._send(200, {"callbacks": self.server.recent_callbacks()})
        else:
            self._send(404, {"error": f"no route GET {path}"})

    def do_POST(self) -> None:
        job_type = self.path.split("?", 1)[0].strip("/")
        agent = AGENTS_BY_TYPE.get(job_type)
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            self._send(413, {"error": "request too large"})
            return
        raw = self.rfile.read(length)
        if agent is None:
            self._send(404, {"error": f"no agent for {job_type!r}"})
            return
        secret = self.server.secrets.get(job_type)
        signed = secret is not None and verify(secret, dict(self.headers.items()), raw)
        try:
            request = json.loads(raw)
        except ValueError:
            request = None
        self.server.record(job_type, request, signed)
        if not signed:
            self._send(401, {"error": "bad or missing webhook signature"})
            return
        if not isinstance(request, dict):
            self._send(400, {"error": "the body must be a JSON object"})
            return
        if agent.is_async and isinstance(request.get("callbackUrl"), str) and secret is not None:
            self.server.run_async(agent, request, secret)
            self._send(202, {"status": "accepted"})
            return
        try:
            answer = agent.work(request)
        except Exception as exc:  # an agent bug is the agent's 500, as on a real server
            self._send(500, {"error": f"agent failed: {exc}"})
            return
        self._send(200, answer)


class _AgentsHTTPServer(LoopbackServer):
    def __init__(self, address: tuple[str, int], agent_secrets: Mapping[str, str], time_scale: float) -> None:
        super().__init__(address, _Handler)
        self.secrets = dict(agent_secrets)
        self.time_scale = time_scale
        self._recent: deque[dict[str, Any]] = deque(maxlen=RECENT_REQUESTS)
        self._callbacks: deque[dict[str, Any]] = deque(maxlen=RECENT_REQUESTS)
        self._lock = threading.Lock()

    def run_async(self, agent: AgentDefinition, request: dict[str, Any], secret: str) -> None:
        """Works on an accepted job in a thread: progress after each step, then the output, all by callback."""
        worker = threading.Thread(
            target=self._work_async, args=(agent, request, secret), name=f"async-{agent.job_type}", daemon=True
        )
        worker.start()

    def _work_async(self, agent: AgentDefinition, request: dict[str, Any], secret: str) -> None:
        total = len(agent.steps)
        with httpx.Client(timeout=30.0, trust_env=False) as client:
            for number, step in enumerate(agent.steps, start=1):
                if self.stopping.wait(agent.step_seconds * self.time_scale):
                    return
                report = {"status": "working", "progress": round(number / (total + 1), 3), "message": step}
                if not self._call_back(client, request, secret, report, number):
                    return  # refused (the job was cancelled, failed or timed out): stop working on it
            try:
                final = {"status": "completed", "output": agent.work(request)}
            except Exception as exc:  # an agent bug is reported as the attempt's failure
                final = {"status": "failed", "error": f"agent failed: {exc}"[:2000]}
            self._call_back(client, request, secret, final, total + 1)

    def _call_back(
        self, client: httpx.Client, request: dict[str, Any], secret: str, body: dict[str, Any], sequence: int
    ) -> bool:
        """POSTs one signed callback (tried again on connect errors and 5xx); True when the platform took it."""
        raw = json.dumps(body).encode()
        message_id = f"{request.get('jobId')}-{request.get('attempt')}-{sequence}"
        status: int | None = None
        for tried in range(1, CALLBACK_TRIES + 1):
            headers = sign_headers(secret, raw, msg_id=message_id, timestamp=int(time.time()))
            headers["content-type"] = "application/json"
            try:
                status = client.post(str(request["callbackUrl"]), content=raw, headers=headers).status_code
            except httpx.HTTPError:
                status = None
            if status is not None and status < 500:
                break
            if tried < CALLBACK_TRIES and self.stopping.wait(0.5 * tried):
                break
        self.record_callback(request, str(body["status"]), status)
        return status is not None and 200 <= status < 300

    def record_callback(self, request: dict[str, Any], status: str, http_status: int | None) -> None:
        entry = {
            "jobId": request.get("jobId"),
            "attempt": request.get("attempt"),
            "status": status,
            "httpStatus": http_status,
            "at": time.time(),
        }
        with self._lock:
            self._callbacks.append(entry)

    def recent_callbacks(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._callbacks)

    def record(self, job_type: str, request: Any, signed: bool) -> None:
        body = request if isinstance(request, dict) else {}
        entry = {
            "jobType": job_type,
            "jobId": body.get("jobId"),
            "attempt": body.get("attempt"),
            "signatureOk": signed,
            "at": time.time(),
        }
        with self._lock:
            self._recent.append(entry)

    def recent(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._recent)


class AgentServer(BackgroundServer):
    """The example agents on ``HOST:port`` (0 picks a free port) in a thread; ``agent_secrets``: job type → secret;
    ``time_scale``: how long the async agent's steps take, as a fraction of their real length."""

    def __init__(
        self,
        agent_secrets: Mapping[str, str],
        *,
        host: str = HOST,
        port: int = DEFAULT_PORT,
        time_scale: float = 1.0,
    ) -> None:
        self._server: _AgentsHTTPServer = _AgentsHTTPServer((host, port), agent_secrets, time_scale)
        super().__init__(self._server, name="example-agents")

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def endpoint(self, job_type: str) -> str:
        return f"{self.base_url}/{job_type}"

    def secret(self, job_type: str) -> str:
        """The signing secret the agent of ``job_type`` checks (to register it with the platform)."""
        return self._server.secrets[job_type]

    @property
    def time_scale(self) -> float:
        return self._server.time_scale


def new_secrets() -> dict[str, str]:
    """A random signing secret per agent (≥ 16 characters, as the registry requires)."""
    return {agent.job_type: secrets.token_urlsafe(32) for agent in AGENTS}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The example agents (" + ", ".join(AGENTS_BY_TYPE) + ")")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on {HOST} (default {DEFAULT_PORT})")
    parser.add_argument("--time-scale", type=float, default=1.0, help="the async agent's step length factor")
    parser.add_argument("--secret", help="signing secret shared by the three agents (default: a random one)")
    args = parser.parse_args(argv)
    secret = args.secret or secrets.token_urlsafe(32)
    if len(secret) < 16:
        parser.error("--secret must be at least 16 characters")
    server = AgentServer(dict.fromkeys(AGENTS_BY_TYPE, secret), port=args.port, time_scale=args.time_scale).start()
    print(f"example agents on {server.base_url}: " + ", ".join(f"/{t}" for t in AGENTS_BY_TYPE), flush=True)
    if not args.secret:
        print(f"signing secret: {secret}", flush=True)
    server.serve_until_interrupted()


if __name__ == "__main__":
    main()
