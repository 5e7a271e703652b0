"""The WebSocket API, locally, on the gateway's own port: ``GET /api/realtime?token=<JWT>`` upgrades (the
``websockets`` library's protocol over the gateway's socket), and ``/@connections/{id}`` is API Gateway's
management API for the connections held here, so ``post_to_connection`` works against it unchanged.

As in the cloud: the token is checked before the upgrade (HTTP 401 otherwise: the $connect authorizer), the
``realtime`` function gets $connect / $disconnect and each frame (route ``subscribe`` when the frame's ``action``
says so, else ``$default``) with the authorizer's context, and its answer's body goes back as a frame (a route
response). A connection whose token expires is closed with code 4401.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request
from websockets.server import ServerProtocol
from websockets.sync.connection import Connection

from agent_jobs.catalog import REALTIME_FUNCTION, REALTIME_PATH
from agent_jobs.integrations.cognito_jwt import authorizer_context
from agent_jobs.models.realtime import MAX_FRAME_BYTES
from local import console
from local.jwt_auth import InvalidToken, JwtVerifier

MANAGEMENT_PREFIX = "/@connections/"
MAX_MESSAGE_BYTES = 128 * 1024  # API Gateway's WebSocket message limit: larger ones close the socket (1009)
TOKEN_EXPIRED = 4401  # the close code for an expired token (4000-4999: the application's own)
Invoke = Callable[[str, dict[str, Any]], Any]
log = console.get("realtime")


def _json(
    handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any], extra: dict[str, str] | None = None
) -> int:
    body = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("content-type", "application/json")
    for name, value in (extra or {}).items():
        handler.send_header(name, value)
    handler.send_header("content-length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
    return status


def _route_of(text: str) -> str:
    """API Gateway's route selection (``$request.body.action``): ``subscribe``, else ``$default``."""
    try:
        action = json.loads(text).get("action") if len(text) <= MAX_FRAME_BYTES else None
    except (ValueError, AttributeError):
        action = None
    return "subscribe" if action == "subscribe" else "$default"


class RealtimeHub:
    def __init__(self, verifier: JwtVerifier, invoke: Invoke) -> None:
        self.verifier = verifier
        self.invoke = invoke
        self._connections: dict[str, tuple[Connection, float]] = {}
        self._lock = threading.Lock()

    def handles(self, method: str, path: str) -> bool:
        return (method == "GET" and path == REALTIME_PATH) or path.startswith(MANAGEMENT_PREFIX)

    def serve(self, handler: BaseHTTPRequestHandler, method: str, path: str, query: str, body: bytes | None) -> int:
        if path.startswith(MANAGEMENT_PREFIX):
            return self._manage(handler, method, unquote(path.removeprefix(MANAGEMENT_PREFIX)), body)
        return self._upgrade(handler, query)

    # --- the management API (what post_to_connection calls) --------------------------------------
    def _manage(self, handler: BaseHTTPRequestHandler, method: str, connection_id: str, body: bytes | None) -> int:
        if not (handler.headers.get("authorization") or "").startswith("AWS4-HMAC-SHA256"):
            return _json(handler, 403, {"message": "Missing Authentication Token"})
        with self._lock:
            found = self._connections.get(connection_id)
        if found is None:
            return _json(handler, 410, {"message": "Gone"}, {"x-amzn-errortype": "GoneException"})
        connection, connected_at = found
        try:
            if method == "POST":
                connection.send((body or b"").decode("utf-8", errors="replace"))
            elif method == "DELETE":
                connection.close()
            elif method != "GET":
                return _json(handler, 405, {"message": f"{method} is not allowed"})
        except ConnectionClosed:
            return _json(handler, 410, {"message": "Gone"}, {"x-amzn-errortype": "GoneException"})
        at = datetime.fromtimestamp(connected_at, UTC).isoformat()
        return _json(handler, 200, {"connectedAt": at, "lastActiveAt": at})

    # --- a client's connection ----------------------------------------------------------------------
    def _upgrade(self, handler: BaseHTTPRequestHandler, query: str) -> int:
        token = (parse_qs(query).get("token") or [""])[0]
        if not token:
            return _json(
                handler, 401, {"success": False, "error": {"code": "UNAUTHORIZED", "message": "?token= is required"}}
            )
        try:
            verified = self.verifier.verify(token)
        except InvalidToken as exc:
            return _json(handler, 401, {"success": False, "error": {"code": "UNAUTHORIZED", "message": str(exc)}})
        protocol = ServerProtocol(max_size=MAX_MESSAGE_BYTES)
        # http.server has read the request already: hand the protocol the same bytes, so its parser moves on to
        # frames exactly as if it had read them itself
        head = f"GET {handler.path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in handler.headers.items())
        protocol.receive_data((head + "\r\n").encode("latin-1"))
        (request,) = protocol.events_received()
        assert isinstance(request, Request)
        response = protocol.accept(request)
        protocol.send_response(response)
        handler.connection.sendall(b"".join(protocol.data_to_send()))
        if response.status_code != 101:
            handler.close_connection = True
            return response.status_code
        handler.close_connection = True
        self._run(handler, protocol, authorizer_context(verified.claims), float(verified.claims.get("exp") or 0))
        return 101

    def _run(
        self, handler: BaseHTTPRequestHandler, protocol: ServerProtocol, context: dict[str, str], expires: float
    ) -> None:
        connection = Connection(handler.connection, protocol, ping_interval=20, ping_timeout=20, close_timeout=2)
        connection_id = secrets.token_urlsafe(12)
        authorizer = {"principalId": context.get("sub", ""), **context}
        answer = self._invoke("$connect", "CONNECT", connection_id, authorizer)
        if not isinstance(answer, dict) or answer.get("statusCode") != 200:
            connection.close(1011, "connect failed")
            return
        with self._lock:
            self._connections[connection_id] = (connection, time.time())
        try:
            self._frames(connection, connection_id, authorizer, expires)
        finally:
            with self._lock:
                self._connections.pop(connection_id, None)
            self._invoke("$disconnect", "DISCONNECT", connection_id, authorizer)

    def _frames(self, connection: Connection, connection_id: str, authorizer: dict[str, str], expires: float) -> None:
        while True:
            left = expires - time.time()
            if left <= 0:
                connection.close(TOKEN_EXPIRED, "token expired")
                return
            try:
                message = connection.recv(timeout=left)
            except TimeoutError:
                continue
            except ConnectionClosed:
                return
            if isinstance(message, bytes):
                reply: Any = {
                    "statusCode": 200,
                    "body": json.dumps(
                        {"type": "error", "error": {"code": "BAD_FRAME", "message": "send JSON text frames"}}
                    ),
                }
            else:
                reply = self._invoke(_route_of(message), "MESSAGE", connection_id, authorizer, message)
            if isinstance(reply, dict) and reply.get("body"):
                try:
                    connection.send(str(reply["body"]))
                except ConnectionClosed:
                    return

    def _invoke(
        self, route: str, kind: str, connection_id: str, authorizer: dict[str, str], body: str | None = None
    ) -> Any:
        event = {
            "requestContext": {
                "routeKey": route,
                "eventType": kind,
                "connectionId": connection_id,
                "authorizer": authorizer,
                "stage": "local",
                "requestTimeEpoch": int(time.time() * 1000),
            },
            "body": body,
            "isBase64Encoded": False,
        }
        try:
            return self.invoke(REALTIME_FUNCTION, event)
        except Exception as exc:
            log.error("realtime %s failed: %s", route, exc)
            return {"statusCode": 500}

    def close_all(self) -> None:
        with self._lock:
            held = [connection for connection, _ in self._connections.values()]
        for connection in held:
            connection.close(1001, "server stopping")
