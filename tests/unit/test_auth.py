"""Who is asking: groups from the JWT claims, the principal, the admin check and the ownership rule."""

from __future__ import annotations

from typing import Any

import pytest

from agent_jobs.domain.auth import Principal, hide_unless_visible, parse_groups, principal_from_claims
from agent_jobs.errors import Forbidden, NotFound, Unauthorized


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["admins", "users"], {"admins", "users"}),  # a real list (REST API / local gateway)
        ("[admins users]", {"admins", "users"}),  # API Gateway HTTP API's flattening of a list
        ("[admins]", {"admins"}),
        ('["admins", "users"]', {"admins", "users"}),  # a JSON list in a string
        ("admins,users", {"admins", "users"}),  # a comma list
        ("admins, users", {"admins", "users"}),
        ("admins", {"admins"}),
        ("", set()),
        ("[]", set()),
        ([], set()),
        (None, set()),
    ],
)
def test_parse_groups(raw: Any, expected: set[str]) -> None:
    assert parse_groups(raw) == frozenset(expected)


def test_principal_from_claims() -> None:
    caller = principal_from_claims({"sub": "user-1", "cognito:groups": "[admins users]"})
    assert caller == Principal("user-1", frozenset({"admins", "users"}))
    assert caller.is_admin


def test_principal_without_groups_is_a_plain_user() -> None:
    caller = principal_from_claims({"sub": "user-1"})
    assert caller.groups == frozenset()
    assert not caller.is_admin


@pytest.mark.parametrize("claims", [None, {}, {"sub": ""}, {"cognito:groups": "[admins]"}])
def test_claims_without_a_subject_are_unauthorized(claims: dict[str, Any] | None) -> None:
    with pytest.raises(Unauthorized) as refused:
        principal_from_claims(claims)
    assert refused.value.status_code == 401


@pytest.mark.parametrize("groups", [set(), {"users"}, {"admin"}, {"Admins"}, {"admins-readonly"}])
def test_only_the_admins_group_is_admin(groups: set[str]) -> None:
    caller = Principal("u", frozenset(groups))
    assert not caller.is_admin
    with pytest.raises(Forbidden):
        caller.require_admin()


def test_admin_passes_the_admin_check() -> None:
    Principal("root", frozenset({"users", "admins"})).require_admin()


def test_may_see() -> None:
    alice, admin = Principal("alice"), Principal("root", frozenset({"admins"}))
    assert alice.may_see("alice")
    assert not alice.may_see("bob")
    assert admin.may_see("bob")


def test_another_users_resource_answers_like_a_missing_one() -> None:
    hide_unless_visible(Principal("alice"), "alice", "job", "j1")
    with pytest.raises(NotFound, match="job j1 not found") as hidden:
        hide_unless_visible(Principal("bob"), "alice", "job", "j1")
    assert hidden.value.status_code == 404
