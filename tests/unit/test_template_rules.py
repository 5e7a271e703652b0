"""The template rules of ``domain/templates.py``, pure: where placeholders count, filling them, the save checks."""

from __future__ import annotations

from typing import Any

import pytest

from agent_jobs.domain.templates import checked_body, fill, variables_in
from agent_jobs.errors import BadRequest


def test_variables_are_found_only_where_they_are_filled_in_order_of_use() -> None:
    body = {
        "name": "{{b}} and {{a}}",
        "description": "{{ spaced }} {{1digit}} {{a}}",  # not placeholders: literal text
        "inputData": {"x": ["{{c}}", {"y": "{{b}}"}], "n": 1},
    }
    assert variables_in(body) == ["b", "a", "c"]


def test_filling_is_one_literal_pass_and_leaves_other_members_alone() -> None:
    body = {"name": "{{a}}", "inputData": {"{{k}}": "{{a}}-{{b}}", "n": 2}, "jobType": "simple-task"}
    filled = fill(body, {"a": "{{b}}", "b": r"\g<0>"})
    assert filled == {"name": "{{b}}", "inputData": {"{{k}}": r"{{b}}-\g<0>", "n": 2}, "jobType": "simple-task"}
    assert body["name"] == "{{a}}"  # the template itself is not changed


def test_a_missing_value_is_named() -> None:
    with pytest.raises(BadRequest) as raised:
        fill({"description": "{{a}} {{b}} {{c}}"}, {"b": "x"})
    assert raised.value.field == "variables.a" and "a, c" in raised.value.message


def test_a_body_nested_too_deep_is_a_bad_request_not_a_crash() -> None:
    deep: Any = "{{x}}"
    for _ in range(40):
        deep = [deep]
    with pytest.raises(BadRequest) as raised:
        checked_body({"description": "d", "inputData": {"deep": deep}})
    assert raised.value.field == "body"


def test_a_valid_body_answers_its_variables() -> None:
    assert checked_body({"taskDescription": "Greet {{who}}", "inputData": {"lang": "{{lang}}"}}) == ["who", "lang"]
