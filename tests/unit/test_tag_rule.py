"""The tag rule the OpenAPI document publishes is the rule the API applies: the fuzzer found ``"000:"`` allowed by
the published pattern (``^key:``) and refused by the API (an empty value)."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from agent_jobs.models.jobs import CreateJobRequest

SAMPLES = [
    "env:prod",
    "env: prod",
    "team:r&d and ml",
    "k:日本語",
    "url:https://example.com/a b",
    "a:" + "x" * 128,
    "000:",
    "a: ",
    "a:x ",
    "a:\u200bx",
    "a:x\u202e",
    "a:\tx",
    "A:x",
    "a:" + "x" * 129,
]


def published_pattern() -> str:
    schema = CreateJobRequest.model_json_schema()
    pattern: str = schema["properties"]["tags"]["items"]["pattern"]
    return pattern


def accepted(tag: str) -> bool:
    try:
        CreateJobRequest.model_validate({"description": "x", "tags": [tag]})
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("tag", SAMPLES)
def test_the_published_pattern_says_exactly_what_the_api_accepts(tag: str) -> None:
    assert (re.fullmatch(published_pattern(), tag) is not None) == accepted(tag)


def test_spaces_after_the_colon_are_dropped_and_a_repeat_kept_once() -> None:
    request = CreateJobRequest.model_validate({"description": "x", "tags": ["env: prod", "env:prod", "team:ml"]})
    assert request.tags == ["env:prod", "team:ml"]
