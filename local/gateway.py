"""The local API Gateway (HTTP API): route by ``catalog.match_route``, check the bearer JWT for non-public routes
as the Cognito JWT authorizer does, build the payload 2.0 event, call the function in-process, and write its
answer (status, headers, cookies, body, base64 decoding)."""

from __future__ import annotations

import base64
import json
import threading
import time
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from agent_jobs.catalog import REALTIME_PATH, Access, match_route, methods_of
from local import console, lambda_runtime
from local.config import HOST
from local.http_server import BackgroundServer, LoopbackServer
from local.jwt_auth import InvalidToken, JwtVerifier, bearer_token
from local.lambda_runtime import http_event
from local.oauth import TOKEN_PATH, TokenEndpoint
from local.realtime import RealtimeHub

MAX_BODY_MB = 10  # API Gateway's payload limit
MAX_BODY_BYTES = MAX_BODY_MB * 1024 * 1024
MAX_LINE = 64 * 1024
Invoke = Callable[[str, dict[str, Any]], Any]
log = console.get("gateway")
# Powertools' resolver keeps the request it answers in process-wide state (``BaseRouter.current_event`` and
# ``lambda_context`` are class attributes shared by every resolver; the route context is a dict cleared after
# each request). Lambda gives each execution environment one request at a time; this gateway has a thread per
# connection, and overlapping invocations answered each other's requests (app.js served as text/css; a route
# could read another request's claims) or failed (KeyError '_route' → 500). So it runs one API invocation at a
# time, whatever the function.
ONE_API_INVOCATION = threading.Lock()


class _BodyError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def envelope(code: str, message: str) -> dict[str, Any]:
    return {"success": False, "error": {"code": code, "message": message}}


def _query(raw: str) -> dict[str, str] | None:
    """``queryStringParameters`` of payload 2.0: repeated names joined with commas."""
    values: dict[str, list[str]] = {}
    for name, value in parse_qsl(raw, keep_blank_values=True):
        values.setdefault(name, []).append(value)
    return {name: ",".join(items) for name, items in values.items()} or None


def _answer(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """A payload 2.0 function result as HTTP: a dict with ``statusCode``, or any JSON value (→ 200)."""
    if not (isinstance(result, dict) and "statusCode" in result):
        return 200, [("content-type", "application/json")], json.dumps(result).encode()
    headers: list[tuple[str, str]] = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers += [(str(name), str(value)) for value in values]
    headers += [("set-cookie", str(cookie)) for cookie in result.get("cookies") or []]
    raw = result.get("body")
    body = b"" if raw is None else str(raw).encode()
    if result.get("isBase64Encoded") and raw is not None:
        body = base64.b64decode(str(raw))
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("content-type", "application/json"))
    return int(result["statusCode"]), headers, body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _GatewayServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the gateway writes its own one-line access log."""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_OPTIONS(self) -> None:
        self._handle("OPTIONS")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def __getattr__(self, name: str) -> Callable[[], None]:
        """Any other method (TRACE, CONNECT, ...) reaches the route table too, and so answers 405 or 404 in the
        envelope instead of http.server's HTML 501."""
        if name.startswith("do_") and name[3:].isalpha():
            return lambda: self._handle(name[3:])
        raise AttributeError(name)

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        skip = {"content-length", "connection", "transfer-encoding", "date", "server"}
        for name, value in headers:
            if name.lower() not in skip:
                self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, status: int, payload: dict[str, Any], extra: list[tuple[str, str]] | None = None) -> None:
        self._send(status, [("content-type", "application/json"), *(extra or [])], json.dumps(payload).encode())

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
            return self._read_chunked() or None
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY_BYTES:
            raise _BodyError(413, "PAYLOAD_TOO_LARGE", f"request body is larger than {MAX_BODY_MB} MB")
        return self.rfile.read(length) if length else None

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(MAX_LINE)
            try:
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            except ValueError:
                raise _BodyError(400, "BAD_REQUEST", "malformed chunked request body") from None
            if size == 0:
                while self.rfile.readline(MAX_LINE) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise _BodyError(413, "PAYLOAD_TOO_LARGE", f"request body is larger than {MAX_BODY_MB} MB")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(MAX_LINE)

    def _handle(self, method: str) -> None:
        started = time.perf_counter()
        status = self._dispatch(method)
        if self.server.access_log:
            took = (time.perf_counter() - started) * 1000
            log.info("%s %s → %s (%.0f ms)", method, self.path, status, took)

    def _dispatch(self, method: str) -> int:
        parts = urlsplit(self.path)
        path = parts.path or "/"
        try:
            body = self._read_body()
        except _BodyError as exc:
            self.close_connection = True
            self._send_json(exc.status, envelope(exc.code, str(exc)))
            return exc.status
        if self.server.realtime.handles(method, path):  # the WebSocket API and its management API (DESIGN.md §15)
            return self.server.realtime.serve(self, method, path, parts.query, body)
        token_endpoint = self.server.token_endpoint
        if token_endpoint is not None and method == "POST" and path == TOKEN_PATH:  # machine credentials (§18)
            status, answer = token_endpoint.answer(self.headers.get("authorization"), body)
            self._send_json(status, answer, [("cache-control", "no-store")])
            return status
        found = match_route(method, path)
        if found is None:
            allowed = methods_of(path)
            if allowed:
                message = f"{method} is not allowed on {path}; it takes {', '.join(allowed)}"
                self._send_json(405, envelope("METHOD_NOT_ALLOWED", message), [("allow", ", ".join(allowed))])
                return 405
            self._send_json(404, envelope("NOT_FOUND", f"no route {method} {path} (see /api/docs)"))
            return 404
        route, params = found
        claims: dict[str, str] | None = None
        scopes: list[str] | None = None
        if route.access is not Access.PUBLIC:
            token = bearer_token(self.headers.get("authorization"))
            if token is None:
                return self._unauthorized("sign in: send 'Authorization: Bearer <IdToken>'")
            try:
                verified = self.server.verifier.verify(token)
            except InvalidToken as exc:
                return self._unauthorized(str(exc))
            claims, scopes = verified.claims, verified.scopes
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        event = http_event(
            route,
            path,
            {name: unquote(value) for name, value in params.items()},
            body=body,
            query=_query(parts.query),
            raw_query=parts.query,
            headers=headers,
            claims=claims,
            scopes=scopes,
            source_ip=str(self.client_address[0]),
        )
        return self._call(route.function, event)

    def _unauthorized(self, message: str) -> int:
        self._send_json(401, envelope("UNAUTHORIZED", message), [("www-authenticate", "Bearer")])
        return 401

    def _call(self, function: str, event: dict[str, Any]) -> int:
        try:
            with ONE_API_INVOCATION:
                result = self.server.invoke(function, event)
        except lambda_runtime.FunctionUnavailable as exc:
            self._send_json(502, envelope("FUNCTION_UNAVAILABLE", str(exc)))
            return 502
        except Exception:
            log.error("%s raised:\n%s", function, traceback.format_exc())
            self._send_json(500, envelope("INTERNAL_ERROR", f"the {function} function failed; see the stack's log"))
            return 500
        try:
            status, headers, body = _answer(result)
        except (TypeError, ValueError) as exc:
            log.error("%s returned an answer API Gateway cannot use: %s", function, exc)
            self._send_json(502, envelope("BAD_FUNCTION_RESPONSE", f"the {function} function gave a malformed answer"))
            return 502
        self._send(status, headers, body)
        return status


class _GatewayServer(LoopbackServer):
    def __init__(
        self, port: int, verifier: JwtVerifier, invoke: Invoke, access_log: bool, token_endpoint: TokenEndpoint | None
    ) -> None:
        super().__init__((HOST, port), _Handler)
        self.verifier = verifier
        self.invoke = invoke
        self.access_log = access_log
        self.token_endpoint = token_endpoint
        self.realtime = RealtimeHub(verifier, invoke)


class Gateway(BackgroundServer):
    """The HTTP API on ``HOST:port`` (0 picks a free port) in a thread."""

    def __init__(
        self,
        port: int,
        verifier: JwtVerifier,
        *,
        invoke: Invoke = lambda_runtime.invoke,
        access_log: bool = True,
        token_endpoint: TokenEndpoint | None = None,
    ) -> None:
        self._gateway = _GatewayServer(port, verifier, invoke, access_log, token_endpoint)
        super().__init__(self._gateway, name="gateway")

    def stop(self) -> None:
        self._gateway.realtime.close_all()  # WebSocket clients are told (1001) instead of left hanging
        super().stop()

    @property
    def realtime_url(self) -> str:
        return f"ws://{HOST}:{self.port}{REALTIME_PATH}"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"
