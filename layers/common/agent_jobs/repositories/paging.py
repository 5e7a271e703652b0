"""Cursor pagination over DynamoDB queries: opaque ``nextToken`` values that cannot reach another partition."""

from __future__ import annotations

import base64
import binascii
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from agent_jobs.errors import BadRequest

T = TypeVar("T")
_END = object()


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_token: str | None


def encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(token: str | None, *, expected: dict[str, str], key_names: set[str]) -> dict[str, Any] | None:
    """The ExclusiveStartKey in ``token``; refuses a token of another shape or partition."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest("nextToken is not a valid page token", field="nextToken") from exc
    valid = (
        isinstance(key, dict)
        and set(key) == key_names
        and all(isinstance(value, dict) and set(value) == {"S"} for value in key.values())
        and all(key[name]["S"] == value for name, value in expected.items())
    )
    if not valid:
        raise BadRequest("nextToken is not a valid page token", field="nextToken")
    return key


def take(items: Iterator[T], limit: int, key_of: Any) -> Page[T]:
    """Up to ``limit`` items; the cursor (the key of the last one) only when another item follows, so the
    last page says so and no client is sent to fetch an empty one. Reads at most one item past the page:
    query with ``page_size=limit + 1`` to get it from the same request."""
    page = list(itertools.islice(items, limit))
    if len(page) == limit and next(items, _END) is not _END:
        return Page(page, encode_cursor(key_of(page[-1])))
    return Page(page, None)
