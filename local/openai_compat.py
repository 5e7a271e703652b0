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
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from agent_jobs.domain.output_checks import output_text
from agent_jobs.integrations.judge import (
    BOUNDARY_PATTERN,
    CANDIDATES,
    CRITERIA,
    JOB,
    OUTPUT,
    OUTPUT_PART,
    TASK_CHOOSE_AGENT,
    TASK_EVALUATE,
    TASK_EVALUATE_PART,
    read_block,
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
    model: str | None = None  # the model the completion names (default: the one requested)
    finish_reason: str = "stop"


Responder = Callable[[dict[str, Any]], Reply]


def _estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


def completion_body(
    request: dict[str, Any], content: str, *, model: str | None = None, finish_reason: str = "stop"
) -> dict[str, Any]:
    """A chat.completion object answering ``request`` with ``content``."""
    prompt = sum(_estimate_tokens(_message_text(m)) for m in request.get("messages") or [])
    answer = _estimate_tokens(content)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model or str(request.get("model") or OFFLINE_MODEL),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "finish_reason": finish_reason,
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
            body = completion_body(request, reply.content, model=reply.model, finish_reason=reply.finish_reason)
            self._send_json(reply.status, body, reply.headers)
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
# Not an LLM: it decides by the rules below, which anyone can read, and says so in every reason.
#  1. the output must be a non-empty JSON object without an "error" key (whole output only);
#  2. an output that addresses the judge (INSTRUCTION_MARKERS) fails every criterion;
#  3. a criterion that quotes text ("...", `...`, “...” or '...') is met when the output contains every
#     quoted text, case ignored; a criterion that quotes nothing is met when rules 1 and 2 hold.
# Long outputs come in parts: rule 2 makes a part "violated", rule 3 "met" or "not_shown".

INSTRUCTION_MARKERS = (
    r"\bignore\b[^\n]{0,60}\b(instructions?|criteri\w*|rules?|previous|above|prompt)\b",
    r"\bdisregard\b[^\n]{0,60}\b(instructions?|criteri\w*|rules?|previous|above|prompt)\b",
    r"\b(mark|declare|rate|grade|treat|consider|judge)\s+(this|the|my)\s+(output|answer|response|result|submission)"
    r"\s+(as\s+)?(valid|passed|correct|approved|a pass|complete)\b",
    r"\"?isValid\"?\s*[:=]\s*\"?true",
    r"\b(system|developer)\s+(prompt|message|instructions?)\b",
    r"\byou are (now )?(the|an?) (judge|validator|evaluator|grader)\b",
    r"\bnew instructions?\b",
    r"\bnote to the (judge|validator|evaluator|grader|reviewer)\b",
    r"<<<|\bEND AGENT_OUTPUT\b",
)
_INSTRUCTION = re.compile("|".join(f"(?:{marker})" for marker in INSTRUCTION_MARKERS), re.IGNORECASE)
_QUOTED = re.compile(r"\"([^\"]+)\"|“([^”]+)”|`([^`]+)`|(?:^|(?<=\s))'([^']+)'(?=[\s.,;:!?)]|$)")
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _prompts(request: dict[str, Any]) -> tuple[str, str]:
    messages = request.get("messages") or []
    system = "\n".join(_message_text(m) for m in messages if m.get("role") in ("system", "developer"))
    user = "\n".join(_message_text(m) for m in messages if m.get("role") == "user")
    return system, user


def _quoted(criterion: str) -> list[str]:
    return [next(group for group in groups if group) for groups in _QUOTED.findall(criterion)]


def _instruction_in(text: str) -> str | None:
    found = _INSTRUCTION.search(text)
    return found.group(0)[:80] if found else None


def _shape_problem(output: Any) -> str | None:
    if not isinstance(output, dict):
        return "the agent output is not a JSON object"
    if not output:
        return "the agent output is empty"
    if "error" in output:
        return "the agent output reports an error"
    return None


def _finding(criterion: str, text: str) -> tuple[str, str]:
    """Rules 2 and 3 on ``text``: ("met" | "violated" | "not_shown", evidence)."""
    instruction = _instruction_in(text)
    if instruction:
        return "violated", f"the output addresses the judge: {instruction!r}"
    quoted = _quoted(criterion)
    folded = text.casefold()
    missing = [phrase for phrase in quoted if phrase.casefold() not in folded]
    if missing:
        return "not_shown", f"the output does not contain {missing[0]!r}"
    if quoted:
        return "met", "the output contains " + ", ".join(repr(phrase) for phrase in quoted)
    return "met", "no quoted text to look for; the output is a non-empty JSON object without an error"


def _request_boundary(user: str) -> str | None:
    found = re.match(rf"Boundary: ({BOUNDARY_PATTERN})\n", user)
    return found.group(1) if found else None


def _json_block(user: str, name: str, boundary: str | None) -> Any:
    body = read_block(user, name, boundary)
    try:
        return None if body is None else json.loads(body)
    except ValueError:
        return None


def _evaluate(user: str) -> dict[str, Any]:
    boundary = _request_boundary(user)
    raw_criteria = _json_block(user, CRITERIA, boundary)
    criteria = [str(c) for c in raw_criteria] if isinstance(raw_criteria, list) else []
    output = _json_block(user, OUTPUT, boundary)
    problem = _shape_problem(output)
    text = output_text(output)
    results = []
    for criterion in criteria:
        finding, evidence = ("violated", problem) if problem else _finding(criterion, text)
        results.append({"criterion": criterion, "met": finding == "met", "evidence": evidence})
    unmet = [r for r in results if not r["met"]]
    met_share = (len(results) - len(unmet)) / len(results) if results else (0.0 if problem else 1.0)
    valid = not unmet and problem is None
    if valid:
        reason = f"all {len(results)} criteria met by its rules"
    else:
        reason = problem or f"{len(unmet)} of {len(results)} criteria not met; first: {unmet[0]['evidence']}"
    return {
        "isValid": valid,
        "score": round(met_share, 3),
        "reason": OFFLINE_PREFIX + reason,
        "criteria": results,
        "suggestions": [f"meet: {r['criterion']} ({r['evidence']})" for r in unmet],
    }


def _evaluate_part(user: str) -> dict[str, Any]:
    boundary = _request_boundary(user)
    raw_criteria = _json_block(user, CRITERIA, boundary)
    criteria = [str(c) for c in raw_criteria] if isinstance(raw_criteria, list) else []
    fragment = read_block(user, OUTPUT_PART, boundary) or ""
    text = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), fragment)  # the JSON escapes, roughly undone
    findings = []
    for criterion in criteria:
        finding, evidence = _finding(criterion, text)
        findings.append({"criterion": criterion, "finding": finding, "evidence": evidence})
    return {"criteria": findings, "reason": OFFLINE_PREFIX + "judged this part by its rules"}


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
    boundary = _request_boundary(user)
    job = _json_block(user, JOB, boundary)
    candidates = _json_block(user, CANDIDATES, boundary)
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


def _bad_request(message: str) -> Reply:
    return Reply(status=400, raw_body=json.dumps(_error_body(400, OFFLINE_PREFIX + message)).encode())


def offline_judge_responder(request: dict[str, Any]) -> Reply:
    """Deterministic judge answers for the local stack: evaluations (whole or in parts) and agent choices.

    Completions name the model ``offline-judge-stand-in`` (priced at 0); token counts are estimates
    (characters / 4)."""
    response_format = request.get("response_format") or {}
    name = (response_format.get("json_schema") or {}).get("name") if isinstance(response_format, dict) else None
    system, user = _prompts(request)
    if name == "PartVerdict" or TASK_EVALUATE_PART in system:
        return Reply(content=json.dumps(_evaluate_part(user)), model=OFFLINE_MODEL)
    if name == "Verdict" or TASK_EVALUATE in system:
        return Reply(content=json.dumps(_evaluate(user)), model=OFFLINE_MODEL)
    if name == "AgentChoiceAnswer" or TASK_CHOOSE_AGENT in system:
        answer = _choose(user)
        if answer is None:
            return _bad_request("no job or candidates")
        return Reply(content=json.dumps(answer), model=OFFLINE_MODEL)
    return _bad_request("only evaluation and agent-choice requests are understood")


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
