"""API Gateway HTTP API (payload 2.0) events, as the JWT authorizer would hand them to a function."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from agent_jobs.catalog import Route


def http_event(
    route: Route,
    path: str,
    path_params: dict[str, str],
    *,
    body: bytes | str | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    claims: dict[str, Any] | None = None,
    source_ip: str = "127.0.0.1",
    raw_query: str | None = None,
    scopes: list[str] | None = None,
) -> dict[str, Any]:
    """``raw_query`` keeps a request's query string as sent (default: ``query`` encoded); ``scopes`` are an
    access token's scopes, as the JWT authorizer passes them."""
    raw_body = body.encode() if isinstance(body, str) else body
    is_text = True
    text: str | None = None
    if raw_body is not None:
        try:
            text = raw_body.decode()
        except UnicodeDecodeError:
            is_text = False
            text = base64.b64encode(raw_body).decode()
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    lowered.setdefault("content-type", "application/json")
    now = time.time()
    context: dict[str, Any] = {
        "accountId": "000000000000",
        "apiId": "local",
        "domainName": "localhost",
        "http": {
            "method": route.method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": lowered.get("user-agent", ""),
        },
        "requestId": uuid.uuid4().hex,
        "routeKey": f"{route.method} {route.path}",
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": scopes}}
    return {
        "version": "2.0",
        "routeKey": f"{route.method} {route.path}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}) if raw_query is None else raw_query,
        "headers": lowered,
        "queryStringParameters": query or None,
        "pathParameters": path_params or None,
        "requestContext": context,
        "body": text,
        "isBase64Encoded": not is_text,
    }
