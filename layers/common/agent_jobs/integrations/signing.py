"""Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over id.timestamp.body."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
_VERSION = "v1"


def _key(secret: str) -> bytes:
    """``whsec_<base64>`` decodes per the spec; any other secret is used as its UTF-8 bytes."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("secret has the whsec_ prefix but is not valid base64") from exc
    return secret.encode("utf-8")


def signature(secret: str, body: bytes, *, msg_id: str, timestamp: int) -> str:
    """The ``v1,<base64>`` signature of one message."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return f"{_VERSION},{base64.b64encode(digest).decode('ascii')}"


def sign_headers(secret: str, body: bytes, *, msg_id: str, timestamp: int) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, body, msg_id=msg_id, timestamp=timestamp),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_seconds: int = 300,
    now: float | None = None,
) -> bool:
    """True if any ``v1`` signature in ``headers`` matches and the timestamp is within tolerance."""
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id, ts_text, sig_header = (
        lower.get("webhook-id"),
        lower.get("webhook-timestamp"),
        lower.get("webhook-signature"),
    )
    if not msg_id or not ts_text or not sig_header:
        return False
    try:
        timestamp = int(ts_text)
        expected = signature(secret, body, msg_id=msg_id, timestamp=timestamp).encode()
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        return False
    candidates = [part for part in sig_header.split() if part.startswith(f"{_VERSION},")]
    return any(hmac.compare_digest(expected, part.encode()) for part in candidates)
