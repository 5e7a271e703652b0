"""A small, real OpenAI-compatible HTTP server, and the offline judge stand-in that runs on it.

``OpenAICompatServer(responder)`` serves ``POST /v1/chat/completions`` and ``GET /v1/models``
on 127.0.0.1; ``responder`` turns each request body into a ``Reply``. Tests script replies;
the local stack runs ``offline_judge_responder`` when no OpenAI key is set:

    python -m local.openai_compat --port 8090
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from agent_jobs.integrations.judge import (
    CANDIDATES_END,
    CANDIDATES_START,
    CRITERIA_END,
    CRITERIA_START,
    JOB_END,
    JOB_START,
    OUTPUT_END,
    OUTPUT_START,
    TASK_CHOOSE_AGENT,
    TASK_EVALUATE,
)
from local.http_server import BackgroundServer, LoopbackServer

OFFLINE_PREFIX = "[offline judge stand-in] "
OFFLINE_MODEL = "offline-judge-stand-in"


@dataclass
class Reply:
    """One answer: ``content`` is wrapped into a chat.completion; ``raw_body`` is sent as-is."""

    status: int = 200
    content: str | None = None
    raw_body: bytes | None = None
    delay_seconds: float = 0
    headers: dict[str, str] = field(default_factory=dict)


Responder = Callable[[dict[str, Any]], Reply]


def _estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


def completion_body(request: dict[str, Any], content: str) -> dict[str, Any]:
    """A chat.completion object answering ``request`` with ``content``."""
    prompt = sum(_estimate_tokens(_message_text(m)) for m in request.get("messages") or [])
    answer = _estimate_tokens(content)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(request.get("model") or OFFLINE_MODEL),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": prompt, "completion_tokens": answer, "total_tokens": prompt + answer},
    }


def _error_body(status: int, message: str) -> dict[str, Any]:
    kind = "invalid_request_error"
    if status == 429:
        kind = "rate_limit_error"
    elif status >= 500:
        kind = "server_error"
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log."""

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        extra = {k.lower(): v for k, v in (headers or {}).items()}
        extra.setdefault("content-type", "application/json")
        for key, value in extra.items():
            self.send_header(key, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status: int, data: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            model = {"id": OFFLINE_MODEL, "object": "model", "created": 0, "owned_by": "agent-jobs"}
            self._send_json(200, {"object": "list", "data": [model]})
        else:
            self._send_json(404, _error_body(404, f"no route {self.path}"))

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        if not self.path.split("?")[0].rstrip("/").endswith("/chat/completions"):
            self._send_json(404, _error_body(404, f"no route {self.path}"))
            return
        try:
            request = json.loads(raw)
        except ValueError:
            self._send_json(400, _error_body(400, "body is not JSON"))
            return
        self.server.record(request)
        try:
            reply = self.server.responder(request)
        except Exception as exc:  # a broken responder is the server's 500, as on a real server
            self._send_json(500, _error_body(500, f"responder failed: {exc}"))
            return
        if reply.delay_seconds and self.server.stopping.wait(reply.delay_seconds):
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
            self._answer(request, reply)

    def _answer(self, request: dict[str, Any], reply: Reply) -> None:
        if reply.raw_body is not None:
            self._send(reply.status, reply.raw_body, reply.headers)
        elif reply.content is not None:
            self._send_json(reply.status, completion_body(request, reply.content), reply.headers)
        else:
            self._send_json(reply.status, _error_body(reply.status, f"scripted HTTP {reply.status}"), reply.headers)


class _Server(LoopbackServer):
    def __init__(self, address: tuple[str, int], responder: Responder) -> None:
        super().__init__(address, _Handler)
        self.responder = responder
        self.lock = threading.Lock()
        self.received: list[dict[str, Any]] = []

    def record(self, request: dict[str, Any]) -> None:
        with self.lock:
            self.received.append(request)


class OpenAICompatServer(BackgroundServer):
    """An OpenAI-compatible server on 127.0.0.1 in a daemon thread (port 0 picks a free port)."""

    def __init__(self, responder: Responder, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server: _Server = _Server((host, port), responder)
        super().__init__(self._server, name="openai-compat")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        """A snapshot of every JSON body received, in order."""
        with self._server.lock:
            return list(self._server.received)


# --- the offline judge stand-in -------------------------------------------------------------


def _between(text: str, start: str, end: str) -> str | None:
    _, found, rest = text.partition(start)
    if not found:
        return None
    inside, found, _ = rest.partition(end)
    return inside.strip() if found else None


def _prompts(request: dict[str, Any]) -> tuple[str, str]:
    messages = request.get("messages") or []
    system = "\n".join(_message_text(m) for m in messages if m.get("role") in ("system", "developer"))
    user = "\n".join(_message_text(m) for m in messages if m.get("role") == "user")
    return system, user


def _evaluate(user: str) -> dict[str, Any]:
    criteria_text = _between(user, CRITERIA_START, CRITERIA_END) or ""
    criteria = [line.strip() for line in criteria_text.splitlines() if line.strip()]
    try:
        output = json.loads(_between(user, OUTPUT_START, OUTPUT_END) or "")
    except ValueError:
        output = None
    if not isinstance(output, dict):
        problem = "the agent output is not a JSON object"
    elif not output:
        problem = "the agent output is empty"
    elif "error" in output:
        problem = "the agent output reports an error"
    else:
        problem = None
    met = problem is None
    evidence = "the output is a non-empty JSON object without an error" if met else str(problem)
    return {
        "isValid": met,
        "score": 0.9 if met else 0.1,
        "reason": OFFLINE_PREFIX + ("the output looks complete" if met else f"{problem}"),
        "criteria": [{"criterion": c, "met": met, "evidence": evidence} for c in criteria],
        "suggestions": [] if met else ["Return a non-empty JSON object without an 'error' key."],
    }


def _fill_inputs(job: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    raw = job.get("inputData")
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    props = schema.get("properties")
    inputs = {k: v for k, v in data.items() if k in props} if isinstance(props, dict) else dict(data)
    description = str(job.get("description") or job.get("taskDescription") or job.get("name") or "")
    for name in schema.get("required") or []:
        spec = props.get(name, {}) if isinstance(props, dict) else {}
        kind = spec.get("type", "string") if isinstance(spec, dict) else "string"
        if name not in inputs and (kind == "string" or (isinstance(kind, list) and "string" in kind)):
            inputs[name] = description
    return inputs


def _choose(user: str) -> dict[str, Any] | None:
    try:
        job = json.loads(_between(user, JOB_START, JOB_END) or "")
        candidates = json.loads(_between(user, CANDIDATES_START, CANDIDATES_END) or "")
    except ValueError:
        return None
    if not isinstance(job, dict) or not isinstance(candidates, list) or not candidates:
        return None
    job_type = job.get("jobType")
    fits = [c for c in candidates if job_type in (c.get("jobTypes") or [])]
    chosen = fits[0] if fits else candidates[0]
    why = f"first candidate listing jobType {job_type!r}" if fits else "no candidate lists the jobType; took the first"
    inputs = _fill_inputs(job, chosen.get("inputSchema") or {})
    return {
        "agentId": str(chosen.get("id")),
        "reason": OFFLINE_PREFIX + why,
        "inputsJson": json.dumps(inputs),
    }


def offline_judge_responder(request: dict[str, Any]) -> Reply:
    """Deterministic judge answers for the local stack: evaluations and agent choices."""
    response_format = request.get("response_format") or {}
    name = (response_format.get("json_schema") or {}).get("name") if isinstance(response_format, dict) else None
    system, user = _prompts(request)
    if name == "Verdict" or TASK_EVALUATE in system:
        return Reply(content=json.dumps(_evaluate(user)))
    if name == "AgentChoiceAnswer" or TASK_CHOOSE_AGENT in system:
        answer = _choose(user)
        if answer is None:
            return Reply(status=400, raw_body=json.dumps(_error_body(400, "no job or candidates")).encode())
        return Reply(content=json.dumps(answer))
    message = OFFLINE_PREFIX + "only evaluation and agent-choice requests are understood"
    return Reply(status=400, raw_body=json.dumps(_error_body(400, message)).encode())


def main(argv: list[str] | None = None) -> None:
    """Run the offline judge stand-in until interrupted."""
    parser = argparse.ArgumentParser(description="Offline OpenAI-compatible judge stand-in")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 picks a free one)")
    args = parser.parse_args(argv)
    server = OpenAICompatServer(offline_judge_responder, port=args.port).start()
    print(server.base_url, flush=True)  # the caller reads the URL from stdout
    server.serve_until_interrupted()


if __name__ == "__main__":
    main()
