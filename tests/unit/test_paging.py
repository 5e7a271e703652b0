"""Cursor pagination: opaque tokens that round-trip, and refuse tampering or another partition."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from agent_jobs.errors import BadRequest
from agent_jobs.repositories.paging import decode_cursor, encode_cursor, take

KEY_NAMES = {"id", "user_id", "created_at"}
KEY = {"id": {"S": "job-1"}, "user_id": {"S": "alice"}, "created_at": {"S": "2025-01-01T00:00:00.000Z"}}


def _token(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_round_trip() -> None:
    token = encode_cursor(KEY)
    assert "=" not in token and "alice" not in token  # opaque, URL-safe
    assert decode_cursor(token, expected={"user_id": "alice"}, key_names=KEY_NAMES) == KEY


@pytest.mark.parametrize("token", [None, ""])
def test_no_token_is_the_first_page(token: str | None) -> None:
    assert decode_cursor(token, expected={"user_id": "alice"}, key_names=KEY_NAMES) is None


def test_another_users_token_is_refused() -> None:
    with pytest.raises(BadRequest) as refused:
        decode_cursor(encode_cursor(KEY), expected={"user_id": "bob"}, key_names=KEY_NAMES)
    assert refused.value.field == "nextToken"


@pytest.mark.parametrize(
    "token",
    [
        "not base64 at all!",
        _token("a string")[:-3] + "%%%",
        base64.urlsafe_b64encode(b"\xff\xfe not json").decode(),
        _token(["a", "list"]),
        _token("a string"),
        _token({k: v for k, v in KEY.items() if k != "id"}),  # a key missing
        _token({**KEY, "status": {"S": "PENDING"}}),  # a key of another index
        _token({**KEY, "id": {"N": "1"}}),  # another attribute type
        _token({**KEY, "id": "job-1"}),  # not an attribute value
        _token({**KEY, "user_id": {"S": "bob"}}),  # edited to read someone else's partition
        encode_cursor(KEY)[:-4],  # truncated
    ],
)
def test_tampered_tokens_are_refused(token: str) -> None:
    with pytest.raises(BadRequest, match="nextToken") as refused:
        decode_cursor(token, expected={"user_id": "alice"}, key_names=KEY_NAMES)
    assert refused.value.status_code == 400


def _numbers(n: int, consumed: list[int]) -> Iterator[int]:
    for i in range(n):
        consumed.append(i)
        yield i


def test_take_a_short_last_page_has_no_token() -> None:
    page = take(iter([1, 2]), 3, lambda i: {"id": {"S": str(i)}})
    assert page.items == [1, 2] and page.next_token is None


def test_take_a_page_that_ends_the_list_exactly_has_no_token() -> None:
    page = take(iter([1, 2, 3]), 3, lambda i: {"id": {"S": str(i)}})
    assert page.items == [1, 2, 3] and page.next_token is None


def test_take_a_full_page_points_after_its_last_item_and_reads_one_past_it() -> None:
    consumed: list[int] = []
    page = take(_numbers(10, consumed), 3, lambda i: {"id": {"S": str(i)}})
    assert page.items == [0, 1, 2]
    assert consumed == [0, 1, 2, 3]  # one peek to know whether another page exists
    assert page.next_token is not None
    assert decode_cursor(page.next_token, expected={}, key_names={"id"}) == {"id": {"S": "2"}}
