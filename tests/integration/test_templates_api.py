"""Job templates (DESIGN.md §16) through the create_job function on moto: CRUD, who sees and changes what, and
jobs made from a template (placeholders, literal values, overrides)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Api, Reply

BODY = {
    "name": "Report for {{customer}}",
    "taskDescription": "Summarise the {{period}} report of {{customer}}",
    "acceptanceCriteria": "Mentions {{customer}} by name",
    "jobType": "simple-task",
    "inputData": {"customer": "{{customer}}", "rows": [{"label": "{{period}} total"}], "count": 3},
    "priority": 4,
    "autoAssign": False,
}


def save(api: Api, body: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    reply = api.post("/api/templates", {"name": "monthly report", "body": body or BODY, **fields})
    assert reply.status == 201, reply.body
    template: dict[str, Any] = reply.body["template"]
    return template


def error_of(reply: Reply, status: int) -> dict[str, Any]:
    assert reply.status == status, reply.body
    assert reply.body["success"] is False
    found: dict[str, Any] = reply.body["error"]
    return found


def listed(api: Api, **query: str) -> list[str]:
    reply = api.get("/api/templates", query=query or None)
    assert reply.status == 200, reply.body
    return [template["id"] for template in reply.body["templates"]]


@pytest.fixture
def bob(aws: dict[str, str]) -> Api:
    return Api("bob")


# --- CRUD --------------------------------------------------------------------------------------------------------
def test_a_template_is_saved_read_replaced_and_deleted(api: Api) -> None:
    template = save(api, description="the monthly one")
    assert set(template) >= {"id", "name", "description", "body", "shared", "userId", "variables", "createdAt"}
    assert template["userId"] == "alice" and template["shared"] is False
    assert template["variables"] == ["customer", "period"]  # in order of first use, once each
    assert template["body"] == BODY  # as given: only the members the author set

    shown = api.get(f"/api/templates/{template['id']}")
    assert shown.status == 200 and shown.body["template"] == template

    changed = api.put(
        f"/api/templates/{template['id']}",
        {"name": "weekly", "body": {"description": "Weekly for {{team}}", "priority": 2}},
    )
    assert changed.status == 200, changed.body
    assert changed.body["template"]["variables"] == ["team"]
    assert changed.body["template"]["name"] == "weekly" and changed.body["template"]["description"] == ""
    assert api.get(f"/api/templates/{template['id']}").body["template"] == changed.body["template"]

    gone = api.delete(f"/api/templates/{template['id']}")
    assert gone.status == 200 and gone.body["template"]["id"] == template["id"]
    assert error_of(api.get(f"/api/templates/{template['id']}"), 404)["code"] == "NOT_FOUND"
    assert listed(api) == []


def test_the_list_pages_through_own_then_shared_templates(api: Api, admin: Api, bob: Api) -> None:
    own = [save(api, name=f"mine {n}")["id"] for n in range(3)]
    shared = [save(admin, name=f"shared {n}", shared=True)["id"] for n in range(2)]
    bobs = save(bob, name="bob's own")["id"]  # never in alice's list
    save(admin, name="the admin's own")  # nor is an admin's unshared one

    seen: list[str] = []
    token: str | None = None
    while True:
        reply = api.get("/api/templates", query={"limit": "2", **({"nextToken": token} if token else {})})
        assert reply.status == 200, reply.body
        assert len(reply.body["templates"]) <= 2
        seen += [t["id"] for t in reply.body["templates"]]
        token = reply.body["nextToken"]
        if token is None:
            break
    assert seen == [*reversed(own), *reversed(shared)]  # no duplicate, none missed, own first, newest first
    assert listed(bob) == [bobs, *reversed(shared)]


def test_a_made_up_or_another_users_cursor_is_400(api: Api, bob: Api) -> None:
    for n in range(3):
        save(bob, name=f"bob {n}")
    bobs_cursor = bob.get("/api/templates", query={"limit": "1"}).body["nextToken"]
    assert bobs_cursor
    for token in (bobs_cursor, "not-a-token"):
        assert error_of(api.get("/api/templates", query={"nextToken": token}), 400)["field"] == "nextToken"


# --- visibility and ownership ------------------------------------------------------------------------------------
def test_another_users_template_is_404_for_every_action(api: Api, bob: Api) -> None:
    template = save(bob)
    path = f"/api/templates/{template['id']}"
    assert error_of(api.get(path), 404)["code"] == "NOT_FOUND"
    assert error_of(api.put(path, {"name": "mine now", "body": BODY}), 404)["code"] == "NOT_FOUND"
    assert error_of(api.delete(path), 404)["code"] == "NOT_FOUND"
    assert error_of(api.post("/api/jobs", {"templateId": template["id"], "variables": {}}), 404)["code"] == "NOT_FOUND"
    assert bob.get(path).body["template"] == template  # untouched


def test_only_an_admin_shares_and_everyone_uses_a_shared_template(api: Api, admin: Api, bob: Api) -> None:
    refused = api.post("/api/templates", {"name": "for all", "body": BODY, "shared": True})
    assert error_of(refused, 403)["field"] == "shared"
    mine = save(api)
    path = f"/api/templates/{mine['id']}"
    assert error_of(api.put(path, {"name": "x", "body": BODY, "shared": True}), 403)["field"] == "shared"

    shared = admin.put(path, {"name": "for all", "body": BODY, "shared": True})  # an admin shares alice's
    assert shared.status == 200 and shared.body["template"]["shared"] is True
    assert shared.body["template"]["userId"] == "alice"  # still hers
    assert bob.get(path).status == 200 and mine["id"] in listed(bob)
    job = bob.post("/api/jobs", {"templateId": mine["id"], "variables": {"customer": "Acme", "period": "May"}})
    assert job.status == 201, job.body
    assert job.body["job"]["userId"] == "bob"

    assert error_of(bob.put(path, {"name": "bob's", "body": BODY}), 403)["code"] == "FORBIDDEN"
    assert error_of(bob.delete(path), 403)["code"] == "FORBIDDEN"
    kept = api.put(path, {"name": "renamed by alice", "body": BODY})  # shared left out: kept
    assert kept.status == 200 and kept.body["template"]["shared"] is True
    assert mine["id"] in listed(api) and listed(api).count(mine["id"]) == 1  # in the shared part only

    unshared = api.put(path, {"name": "mine again", "body": BODY, "shared": False})  # the owner may withdraw it
    assert unshared.status == 200 and unshared.body["template"]["shared"] is False
    assert error_of(bob.get(path), 404)["code"] == "NOT_FOUND"
    assert admin.get(path).status == 200  # admins see every template
    assert admin.delete(path).status == 200


# --- save-time checks --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"jobType": "simple-task"}, "body"),  # no description once filled: not a create body
        ({"description": "d", "agentId": "{{agent}}"}, "body.agentId"),  # never filled there
        ({"description": "d", "inputData": {"{{key}}": 1}}, "body.inputData.{{key}}"),  # nor in a key
        ({"description": "{{x}}", "priority": 11}, "priority"),  # the model's own limits
        ({"description": "d", "templateId": "other"}, "templateId"),  # no template inside a template
        ({"name": "{{a}}" * 40, "description": "d"}, "body.name"),  # 240 characters once filled
    ],
)
def test_a_template_that_is_no_create_body_once_filled_is_400_and_not_saved(
    api: Api, body: dict[str, Any], field: str
) -> None:
    reply = api.post("/api/templates", {"name": "bad", "body": body})
    assert error_of(reply, 400)["field"] == field, reply.body
    assert listed(api) == []


def test_too_many_variables_or_a_deep_body_is_400(api: Api) -> None:
    many = " ".join(f"{{{{v{n}}}}}" for n in range(65))
    assert error_of(api.post("/api/templates", {"name": "many", "body": {"description": many}}), 400)["field"] == "body"
    deep: Any = "{{x}}"
    for _ in range(40):
        deep = {"d": deep}
    reply = api.post("/api/templates", {"name": "deep", "body": {"description": "d", "inputData": deep}})
    assert reply.status == 400, reply.body
    assert listed(api) == []


# --- jobs from a template ----------------------------------------------------------------------------------------
def test_a_job_from_a_template_fills_every_placeholder_and_records_the_template(api: Api) -> None:
    template = save(api)
    reply = api.post("/api/jobs", {"templateId": template["id"], "variables": {"customer": "Acme", "period": "May"}})
    assert reply.status == 201, reply.body
    job = reply.body["job"]
    assert job["templateId"] == template["id"]
    assert job["name"] == "Report for Acme"
    assert job["description"] == job["taskDescription"] == "Summarise the May report of Acme"
    assert job["acceptanceCriteria"] == "Mentions Acme by name"
    assert job["inputData"] == {"customer": "Acme", "rows": [{"label": "May total"}], "count": 3}
    assert job["priority"] == 4
    assert api.get(f"/api/jobs/{job['id']}").body["job"]["templateId"] == template["id"]  # stored


def test_values_are_literal_text_never_expanded_again(api: Api) -> None:
    template = save(api)
    values = {"customer": "{{period}}", "period": "\\1 $& {{customer}}"}
    job = api.post("/api/jobs", {"templateId": template["id"], "variables": values}).body["job"]
    assert job["name"] == "Report for {{period}}"
    assert job["description"] == "Summarise the \\1 $& {{customer}} report of {{period}}"


def test_a_missing_or_unknown_variable_is_400_naming_it(api: Api) -> None:
    template = save(api)
    missing = api.post("/api/jobs", {"templateId": template["id"], "variables": {"customer": "Acme"}})
    found = error_of(missing, 400)
    assert found["field"] == "variables.period" and "period" in found["message"]
    unknown = api.post(
        "/api/jobs", {"templateId": template["id"], "variables": {"customer": "A", "period": "B", "typo": "C"}}
    )
    assert error_of(unknown, 400)["field"] == "variables.typo"
    bad_name = api.post("/api/jobs", {"templateId": template["id"], "variables": {"no-dash": "x"}})
    assert error_of(bad_name, 400)["code"] == "VALIDATION_ERROR"
    alone = api.post("/api/jobs", {"description": "plain", "variables": {"a": "b"}})
    assert "templateId" in error_of(alone, 400)["message"]
    assert api.get("/api/jobs").body["jobs"] == []


def test_an_unknown_template_is_404(api: Api) -> None:
    assert error_of(api.post("/api/jobs", {"templateId": "no-such-template"}), 404)["code"] == "NOT_FOUND"


def test_the_requests_own_members_override_the_template(api: Api) -> None:
    template = save(api)
    reply = api.post(
        "/api/jobs",
        {
            "templateId": template["id"],
            "variables": {"customer": "Acme"},  # period is only in members the request replaces
            "description": "Just this, for {{customer}}",  # the request's text is not a template: kept as is
            "inputData": {"customer": "Acme"},
            "priority": 9,
        },
    )
    assert reply.status == 201, reply.body
    job = reply.body["job"]
    assert job["name"] == "Report for Acme"  # from the template, filled
    assert job["description"] == "Just this, for {{customer}}"  # description replaces taskDescription too
    assert job["inputData"] == {"customer": "Acme"} and job["priority"] == 9


def test_a_filled_template_that_breaks_a_limit_answers_like_the_same_plain_body(api: Api) -> None:
    template = save(api, body={"name": "{{title}}", "description": "d"})
    from_template = api.post("/api/jobs", {"templateId": template["id"], "variables": {"title": "t" * 201}})
    plain = api.post("/api/jobs", {"name": "t" * 201, "description": "d"})
    assert error_of(from_template, 400) == error_of(plain, 400)
    assert error_of(plain, 400)["field"] == "name"
