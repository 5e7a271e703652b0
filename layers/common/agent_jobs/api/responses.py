"""Seed 004's envelopes: ``{"success": true, ...}`` and ``{"success": false, "error": {code, message}}``."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def ok(status_code: int = 200, **payload: Any) -> Response[dict[str, Any]]:
    return Response(
        status_code=status_code,
        content_type=content_types.APPLICATION_JSON,
        body={"success": True, **payload},
        headers=SECURITY_HEADERS,
    )


def error(status_code: int, code: str, message: str, field: str | None = None) -> Response:
    detail: dict[str, Any] = {"code": code, "message": message}
    if field:
        detail["field"] = field
    return Response(
        status_code=status_code,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"success": False, "error": detail}),
        headers=SECURITY_HEADERS,
    )
