"""The jobs API of the create_job function, through the real handler on moto (DESIGN.md §3, §4, §7)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from moto.dynamodb.models import DynamoDBBackend

from agent_jobs.domain.lifecycle import apply
from agent_jobs.domain.transitions import JobEvent
from agent_jobs.errors import Conflict
from agent_jobs.services import reset, services
from tests.integration.conftest import Api, Reply, drain

PUBLIC_ENDPOINT = "https://93.184.215.14/agent"  # a public address literal: the SSRF guard needs no DNS
TOPIC_SCHEMA = {
    "type": "object",
    "properties": {"topic": {"type": "string"}, "count": {"type": "integer", "minimum": 1}},
    "required": ["topic"],
}


# --- helpers -------------------------------------------------------------------------------------
def make_agent(admin: Api, **overrides: Any) -> dict[str, Any]:
    """Registers an ACTIVE agent (as admin) and answers its API view."""
    body = {
        "name": f"agent-{uuid.uuid4().hex[:8]}",
        "endpointUrl": PUBLIC_ENDPOINT,
        "secret": "test-signing-secret-" + uuid.uuid4().hex,
        "jobTypes": ["simple-task"],
        **overrides,
    }
    reply = admin.post("/api/admin/agents", body)
    assert reply.status == 201, reply.body
    agent: dict[str, Any] = reply.body["agent"]
    return agent


def new_job(api: Api, **overrides: Any) -> dict[str, Any]:
    """Creates a job that waits PENDING for a manual assign (no auto-assign message) unless told otherwise."""
    reply = api.post("/api/jobs", {"description": "Summarise the report", "autoAssign": False, **overrides})
    assert reply.status == 201, reply.body
    job: dict[str, Any] = reply.body["job"]
    return job


def error_of(reply: Reply, status: int) -> dict[str, Any]:
    assert reply.status == status, reply.body
    assert reply.body["success"] is False
    found: dict[str, Any] = reply.body["error"]
    return found


def log_kinds(api: Api, job_id: str) -> list[str]:
    reply = api.get(f"/api/jobs/{job_id}/logs")
    assert reply.status == 200, reply.body
    return [log["status"] for log in reply.body["logs"]]


def list_ids(api: Api, path: str = "/api/jobs", **query: str) -> list[str]:
    reply = api.get(path, query=query or None)
    assert reply.status == 200, reply.body
    return [job["id"] for job in reply.body["jobs"]]


@pytest.fixture
def manual_start(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Seed 001's setting: assignment does not start the job; `execute` does."""
    monkeypatch.setenv("AUTO_START_ON_ASSIGN", "false")
    reset()


@pytest.fixture
def queues(aws: dict[str, str]) -> dict[str, str]:
    """The job queues' URLs (each test starts with fresh, empty queues)."""
    return {name: aws[name] for name in ("EXECUTE_QUEUE_URL", "EXECUTE_HIGH_QUEUE_URL", "VALIDATE_QUEUE_URL")}


# --- create --------------------------------------------------------------------------------------
def test_create_seed_002_shape(api: Api, queues: dict[str, str]) -> None:
    reply = api.post(
        "/api/jobs",
        {"name": "Summary", "description": "Summarise the report", "acceptanceCriteria": "Under 100 words"},
    )
    assert reply.status == 201, reply.body
    assert reply.body["success"] is True and set(reply.body) == {"success", "job"}
    job = reply.body["job"]
    assert job["name"] == "Summary"
    assert job["description"] == job["taskDescription"] == "Summarise the report"
    assert job["acceptanceCriteria"] == "Under 100 words"
    assert (job["status"], job["userId"], job["jobType"], job["priority"], job["attempt"]) == (
        "PENDING",
        "alice",
        "simple-task",
        5,
        0,
    )
    assert job["assignedAgentId"] is None
    assert drain(queues["VALIDATE_QUEUE_URL"]) == [
        {"kind": "assign", "jobId": job["id"], "version": job["version"]}
    ]  # auto-assign by default


def test_create_seed_004_shape_on_the_agent_jobs_paths(api: Api, queues: dict[str, str]) -> None:
    body = {
        "jobType": "data-processing",
        "taskDescription": "Process user data",
        "inputData": {"userId": "u-1"},
        "priority": 7,
    }
    reply = api.post("/api/agent-jobs", body)
    assert reply.status == 201, reply.body
    job = reply.body["job"]
    assert (job["jobType"], job["taskDescription"], job["inputData"], job["priority"]) == (
        "data-processing",
        "Process user data",
        {"userId": "u-1"},
        7,
    )
    via_jobs, via_agent_jobs = api.get(f"/api/jobs/{job['id']}"), api.get(f"/api/agent-jobs/{job['id']}")
    assert via_jobs.status == via_agent_jobs.status == 200
    assert via_jobs.body["job"] == via_agent_jobs.body["job"]
    assert list_ids(api, "/api/agent-jobs") == list_ids(api, "/api/jobs") == [job["id"]]
    assert api.get(f"/api/agent-jobs/{job['id']}/logs").body == api.get(f"/api/jobs/{job['id']}/logs").body


BAD_CREATE_BODIES: list[tuple[dict[str, Any], str]] = [
    ({"priority": 11}, "priority"),
    ({"priority": 0}, "priority"),
    ({"maxAttempts": 11}, "maxAttempts"),
    ({"jobType": "Not A Type"}, "jobType"),
    ({"name": "n" * 201}, "name"),
    ({"description": "d" * 10_001}, "description"),
    ({"acceptanceCriteria": "a" * 10_001}, "acceptanceCriteria"),
    ({"inputData": {"blob": "x" * 70_000}}, "inputData"),
    ({"inputData": "not an object"}, "inputData"),
    ({"userId": "mallory"}, "userId"),
    ({"description": None}, "body"),  # neither description nor taskDescription
]


def test_create_refuses_bad_input_naming_the_field(api: Api, queues: dict[str, str]) -> None:
    for change, field in BAD_CREATE_BODIES:
        body = {k: v for k, v in {"description": "d", **change}.items() if v is not None}
        error = error_of(api.post("/api/jobs", body), 400)
        assert error["field"] == field, (change, error)
        assert field in error["message"] or field == "body"
        assert error["code"] == "VALIDATION_ERROR"
    assert list_ids(api) == []  # nothing half-written
    assert drain(queues["VALIDATE_QUEUE_URL"]) == []


def test_invalid_json_is_400(api: Api) -> None:
    error = error_of(api.post("/api/jobs", raw='{"description": "d",'), 400)
    assert error["field"] == "body"
    assert "JSON" in error["message"]


def deep_text(depth: int) -> str:
    """``nested(depth)`` as JSON text (json.dumps itself cannot write thousands of levels)."""
    return '{"a": ' * depth + "1" + "}" * depth


def nested(depth: int) -> Any:
    """A JSON value ``depth`` levels deep: ``{"a": {"a": ... 1}}``."""
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize("depth", [33, 300, 5000])
def test_a_body_nested_too_deep_is_400_and_stores_nothing(api: Api, queues: dict[str, str], depth: int) -> None:
    """Issue 12 item 8: ~256 levels stored the job then every read was 500; ~1000 was a RecursionError."""
    error = error_of(api.post("/api/jobs", raw='{"description": "d", "inputData": ' + deep_text(depth) + "}"), 400)
    assert error["field"] == ("inputData" if depth < 900 else "body"), error
    assert "nested deeper than 32" in error["message"]
    assert list_ids(api) == []
    assert drain(queues["VALIDATE_QUEUE_URL"]) == []
    # every body of every route, before its model reads it
    job = new_job(api)
    assigned = api.post(f"/api/jobs/{job['id']}/assign", raw='{"agentId": "x", "inputs": ' + deep_text(depth) + "}")
    assert error_of(assigned, 400)["field"] == ("inputs" if depth < 900 else "body")
    assert api.get(f"/api/jobs/{job['id']}").status == 200


def test_a_body_at_the_depth_limit_is_accepted(api: Api) -> None:
    job = new_job(api, inputData=nested(31))  # the body itself is one level more: 32
    assert api.get(f"/api/jobs/{job['id']}").body["job"]["inputData"] == nested(31)


@pytest.mark.parametrize("blank", [" ", "\n", "\u2028", " \t\r\n\u2028\u3000 "])
@pytest.mark.parametrize("member", ["description", "taskDescription", "name"])
def test_a_whitespace_only_text_is_400(api: Api, blank: str, member: str) -> None:
    """Issue 12 item 18: a whitespace-only description answered 500."""
    body = {"description": "d", member: blank}
    error = error_of(api.post("/api/jobs", body), 400)
    assert (error["field"], error["code"]) == (member, "VALIDATION_ERROR")
    assert list_ids(api) == []


@pytest.mark.parametrize("route", [("POST", "/api/jobs"), ("POST", "/api/admin/agents"), ("GET", "/api/jobs")])
def test_a_body_that_is_not_utf8_is_400(api: Api, admin: Api, route: tuple[str, str]) -> None:
    """Issue 12 item 18: invalid UTF-8 in any body answered 500."""
    method, path = route
    error = error_of(admin.call(method, path, raw=b'{"description": "caf\xe9 \xff"}'), 400)  # type: ignore[arg-type]
    assert error["field"] == "body" and "UTF-8" in error["message"]
    assert list_ids(admin) == []


def test_a_lone_surrogate_escape_is_400(api: Api, admin: Api) -> None:
    """JSON can escape half a UTF-16 pair; no UTF-8 store takes it (the fuzzer's agent named so made every
    later agent list 500)."""
    for method, path, raw in [
        ("POST", "/api/jobs", '{"description": "\\ud800"}'),
        (
            "POST",
            "/api/admin/agents",
            '{"name": "x\\udfff", "endpointUrl": "https://x.example", "secret": "0123456789abcdef"}',
        ),
    ]:
        error = error_of(admin.call(method, path, raw=raw), 400)
        assert error["field"] == "body" and "surrogate" in error["message"]
    assert admin.post("/api/jobs", raw='{"description": "\\ud83d\\ude00"}').status == 201  # a whole pair is fine
    assert admin.get("/api/admin/agents").body["agents"] == []


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_400(api: Api, constant: str) -> None:
    """Python's parser takes them; stored in inputData they made every later read of the job invalid JSON."""
    error = error_of(api.post("/api/jobs", raw='{"description": "d", "inputData": {"x": ' + constant + "}}"), 400)
    assert error["field"] == "body" and "NaN or Infinity" in error["message"]
    assert list_ids(api) == []


def test_numbers_dynamodb_cannot_store_never_reach_it(api: Api, admin: Api) -> None:
    """The fuzzer's timeoutSeconds 5e-324 was stored by moto, then every agent list answered 500 (DynamoDB
    refuses magnitudes under 1e-130 on the write: a 500 on AWS)."""
    error = error_of(
        admin.post(
            "/api/admin/agents",
            {"name": "n", "endpointUrl": PUBLIC_ENDPOINT, "secret": "s" * 16, "timeoutSeconds": 5e-324},
        ),
        400,
    )
    assert error["field"] == "timeoutSeconds"
    job = new_job(api, passScore=5e-324)
    assert api.get(f"/api/jobs/{job['id']}").body["job"]["passScore"] == 0.0
    assert admin.get("/api/admin/agents").status == 200


@pytest.mark.parametrize("content_type", ["multipart/form-data", "application/x-www-form-urlencoded", "text/plain"])
def test_a_body_that_is_not_json_is_415(api: Api, content_type: str) -> None:
    """Powertools parses forms and multipart for a body model: a multipart body without a boundary was 500."""
    from agent_jobs.catalog import match_route
    from functions.create_job.handler import handler
    from local.lambda_runtime import LocalContext, http_event

    route, params = match_route("POST", "/api/jobs")  # type: ignore[misc]
    event = http_event(
        route,
        "/api/jobs",
        params,
        body='{"description": "d"}',
        headers={"content-type": content_type},
        claims={"sub": "alice"},
    )
    answer = handler(event, LocalContext("create_job"))
    assert answer["statusCode"] == 415, answer
    assert json.loads(answer["body"])["error"] == {
        "code": "UNSUPPORTED_MEDIA_TYPE",
        "message": "the request body must be application/json",
        "field": "body",
    }
    assert list_ids(api) == []


@pytest.mark.parametrize(
    "bad_id",
    ["x" * 129, "x" * 3000, "a b", "..", "id%00", "\u00e9t\u00e9", "a.b"],
)
def test_a_malformed_path_id_is_400_before_any_read(api: Api, admin: Api, bad_id: str) -> None:
    """Issue 12 item 23: an id over DynamoDB's key limit answered 500 on AWS. Checked on every `{id}` route."""
    calls = [
        api.get(f"/api/jobs/{bad_id}"),
        api.get(f"/api/agent-jobs/{bad_id}/logs"),
        api.post(f"/api/jobs/{bad_id}/cancel"),
        api.get(f"/api/jobs/{bad_id}/checkpoints"),
        api.get(f"/api/agents/{bad_id}"),
        admin.put(f"/api/admin/agents/{bad_id}", {"description": "d"}),
        admin.post(f"/api/admin/jobs/{bad_id}/recheck"),
        admin.get(f"/api/admin/agent-checkpoints/{bad_id}"),
    ]
    for reply in calls:
        error = error_of(reply, 400)
        assert (error["field"], error["code"]) == ("id", "VALIDATION_ERROR"), error


def test_an_id_no_route_can_match_is_404(api: Api) -> None:
    """Characters Powertools' router does not route (a line separator) never reach a handler either."""
    error = error_of(api.get("/api/jobs/" + "a" * 100 + "\u2028"), 404)
    assert error == {"code": "NOT_FOUND", "message": "no such route"}


def test_a_well_formed_unknown_id_is_404(api: Api) -> None:
    assert error_of(api.get(f"/api/jobs/{'x' * 128}"), 404)["code"] == "NOT_FOUND"
    assert error_of(api.get("/api/jobs/Some_Id-1"), 404)


def test_a_body_over_256_kb_is_413(api: Api, admin: Api) -> None:
    error = error_of(api.post("/api/jobs", {"description": "d" * (257 * 1024)}), 413)
    assert error["code"] == "PAYLOAD_TOO_LARGE"
    # The size is checked before anything else reads the body, on every route.
    job = new_job(api)
    assert error_of(api.post(f"/api/jobs/{job['id']}/assign", raw=" " * (300 * 1024)), 413)
    assert error_of(admin.post("/api/admin/agents", {"secret": "s" * (300 * 1024)}), 413)
    assert list_ids(api) == [job["id"]]


USER_ROUTES = [
    ("GET", "/api/jobs"),
    ("POST", "/api/jobs"),
    ("GET", "/api/jobs/some-id"),
    ("GET", "/api/jobs/some-id/logs"),
    ("POST", "/api/jobs/some-id/assign"),
    ("POST", "/api/jobs/some-id/auto-assign"),
    ("POST", "/api/jobs/some-id/cancel"),
    ("POST", "/api/jobs/some-id/execute"),
    ("POST", "/api/jobs/some-id/resubmit"),
    ("GET", "/api/agent-jobs"),
    ("POST", "/api/agent-jobs"),
    ("GET", "/api/agents"),
    ("GET", "/api/agents/some-id"),
]


def test_no_token_is_401(api: Api) -> None:
    nobody = api.as_user(None)
    for method, path in USER_ROUTES:
        body = {"description": "d"} if method == "POST" else None
        assert error_of(nobody.call(method, path, body), 401)["code"] == "UNAUTHORIZED", (method, path)
    # before the body is judged: an anonymous caller learns nothing about the API's rules
    assert error_of(nobody.post("/api/jobs", {"priority": 99}), 401)
    assert error_of(nobody.post("/api/jobs", raw="{broken"), 401)
    assert list_ids(api) == []


# --- ownership -----------------------------------------------------------------------------------
def test_another_users_job_is_404_everywhere(api: Api, admin: Api, queues: dict[str, str]) -> None:
    agent = make_agent(admin)
    job = new_job(api)
    bob = api.as_user("bob")
    for prefix in ("/api/jobs", "/api/agent-jobs"):
        base = f"{prefix}/{job['id']}"
        replies = [
            bob.get(base),
            bob.get(f"{base}/logs"),
            bob.post(f"{base}/assign", {"agentId": agent["id"]}),
            bob.post(f"{base}/auto-assign"),
            bob.post(f"{base}/cancel"),
            bob.post(f"{base}/execute"),
            bob.post(f"{base}/resubmit"),
        ]
        for reply in replies:
            assert error_of(reply, 404)["code"] == "NOT_FOUND"
            assert reply.body == replies[0].body  # exactly like a job that does not exist
    assert error_of(bob.get("/api/jobs/no-such-job"), 404)["message"] == "job no-such-job not found"
    assert error_of(api.post("/api/jobs/no-such-job/cancel"), 404)
    assert list_ids(bob) == []
    # bob changed nothing
    assert api.get(f"/api/jobs/{job['id']}").body["job"]["status"] == "PENDING"
    assert log_kinds(api, job["id"]) == ["PENDING"]
    assert all(drain(url) == [] for url in queues.values())


def test_an_admin_reads_anyones_job(api: Api, admin: Api) -> None:
    job = new_job(api)
    for path in (f"/api/jobs/{job['id']}", f"/api/admin/jobs/{job['id']}"):
        reply = admin.get(path)
        assert reply.status == 200, reply.body
        assert reply.body["job"]["id"] == job["id"] and reply.body["job"]["userId"] == "alice"
    assert admin.get(f"/api/jobs/{job['id']}/logs").status == 200


ADMIN_ROUTES = [
    ("GET", "/api/admin/jobs", None),
    ("GET", "/api/admin/jobs/some-id", None),
    ("POST", "/api/admin/jobs/some-id/resubmit", {"reason": "again"}),
    ("POST", "/api/admin/jobs/some-id/complete", {"reason": "done"}),
    ("POST", "/api/admin/jobs/some-id/reassign", {"agentId": "a1"}),
    ("GET", "/api/admin/agents", None),
    ("POST", "/api/admin/agents", {"name": "x", "endpointUrl": PUBLIC_ENDPOINT, "secret": "s" * 20}),
    ("PUT", "/api/admin/agents/some-id", {"description": "x"}),
    ("DELETE", "/api/admin/agents/some-id", None),
]


def test_admin_routes_refuse_a_user_with_403(api: Api) -> None:
    for method, path, body in ADMIN_ROUTES:
        assert error_of(api.call(method, path, body), 403)["code"] == "FORBIDDEN", (method, path)
        if method in ("POST", "PUT"):  # the group is checked before the body
            assert error_of(api.call(method, path, {"bogus": True}), 403)
        assert error_of(api.as_user(None).call(method, path, body), 401)


# --- list ----------------------------------------------------------------------------------------
def test_list_filters_by_status_and_job_type(api: Api, admin: Api, manual_start: None) -> None:
    agent = make_agent(admin, jobTypes=[])
    simple = new_job(api)
    code = new_job(api, jobType="code-generation")
    data = new_job(api, jobType="data-processing")
    assert api.post(f"/api/jobs/{code['id']}/assign", {"agentId": agent["id"]}).status == 200
    new_job(api.as_user("bob"))  # someone else's job never shows

    assert set(list_ids(api)) == {simple["id"], code["id"], data["id"]}
    assert set(list_ids(api, status="PENDING")) == {simple["id"], data["id"]}
    assert list_ids(api, status="ASSIGNED") == [code["id"]]
    assert list_ids(api, status="COMPLETED") == []
    assert list_ids(api, jobType="data-processing") == [data["id"]]
    assert list_ids(api, status="PENDING", jobType="code-generation") == []
    assert list_ids(api, status="ASSIGNED", jobType="code-generation") == [code["id"]]
    summary = api.get("/api/jobs", query={"status": "ASSIGNED"}).body["jobs"][0]
    assert summary["assignedAgentId"] == agent["id"] and summary["status"] == "ASSIGNED"
    assert error_of(api.get("/api/jobs", query={"status": "DONE"}), 400)["field"] == "status"
    assert error_of(api.get("/api/jobs", query={"jobType": "Bad Type"}), 400)["field"] == "jobType"
    assert error_of(api.get("/api/jobs", query={"limit": "0"}), 400)["field"] == "limit"
    assert error_of(api.get("/api/jobs", query={"limit": "101"}), 400)["field"] == "limit"


def pages(api: Api, path: str, limit: int, **query: str) -> list[dict[str, Any]]:
    """Every page of a list, following nextToken; asserts each page's envelope."""
    found, token = [], None
    for _ in range(50):
        params = {"limit": str(limit), **query, **({"nextToken": token} if token else {})}
        reply = api.get(path, query=params)
        assert reply.status == 200, reply.body
        assert reply.body["success"] is True and len(reply.body["jobs"]) <= limit
        found.append(reply.body)
        token = reply.body["nextToken"]
        if token is None:
            return found
    raise AssertionError("the pages never ended")


def test_list_pages_with_a_cursor_newest_first(api: Api) -> None:
    created = [new_job(api, name=f"job {i}")["id"] for i in range(5)]
    got = pages(api, "/api/jobs", 2)
    assert [len(page["jobs"]) for page in got] == [2, 2, 1]
    assert got[-1]["nextToken"] is None
    listed = [job for page in got for job in page["jobs"]]
    ids = [job["id"] for job in listed]
    assert len(ids) == len(set(ids)) == 5
    assert set(ids) == set(created)
    stamps = [job["createdAt"] for job in listed]
    assert stamps == sorted(stamps, reverse=True)
    if len(set(stamps)) == len(stamps):  # distinct timestamps: the exact reverse order of creation
        assert ids == list(reversed(created))


def test_a_last_page_that_is_full_has_no_next_token(api: Api) -> None:
    for _ in range(4):
        new_job(api)
    assert [len(page["jobs"]) for page in pages(api, "/api/jobs", 2)] == [2, 2]
    assert [len(page["jobs"]) for page in pages(api, "/api/jobs", 4)] == [4]
    assert [len(page["jobs"]) for page in pages(api, "/api/jobs", 2, status="PENDING")] == [2, 2]


def test_bad_next_tokens_are_400(api: Api, admin: Api) -> None:
    for _ in range(3):
        new_job(api)
    token = api.get("/api/jobs", query={"limit": "1"}).body["nextToken"]
    assert token
    for bad in ("garbage", token[:-3] + "xyz", "eyJ9"):
        assert error_of(api.get("/api/jobs", query={"nextToken": bad}), 400)["field"] == "nextToken"
    # a token is bound to its list: not another user's, not the admin list's
    assert error_of(api.as_user("bob").get("/api/jobs", query={"nextToken": token}), 400)["field"] == "nextToken"
    assert error_of(admin.get("/api/admin/jobs", query={"nextToken": token}), 400)["field"] == "nextToken"
    admin_token = admin.get("/api/admin/jobs", query={"limit": "1"}).body["nextToken"]
    assert error_of(api.get("/api/jobs", query={"nextToken": admin_token}), 400)["field"] == "nextToken"


# --- detail and logs -----------------------------------------------------------------------------
def test_detail_has_logs_checkpoints_and_timeline(api: Api, admin: Api, manual_start: None) -> None:
    agent = make_agent(admin)
    job = new_job(api)
    api.post(f"/api/jobs/{job['id']}/assign", {"agentId": agent["id"]})
    reply = api.get(f"/api/jobs/{job['id']}")
    assert reply.status == 200, reply.body
    body = reply.body
    assert set(body) >= {"success", "job", "logs", "checkpoints", "timeline"}
    assert body["job"]["status"] == "ASSIGNED" and body["job"]["waitingFor"] is None
    assert [log["status"] for log in body["logs"]] == ["PENDING", "ASSIGNED"]
    assert body["logs"][1]["agentId"] == agent["id"]
    assert body["logs"][1]["actor"] == "alice"
    assert body["checkpoints"] == []
    assert [(t["status"], t["at"]) for t in body["timeline"]] == [
        (log["status"], log["createdAt"]) for log in body["logs"]
    ]


def test_the_detail_reads_the_job_item_once(api: Api, admin: Api, manual_start: None) -> None:
    """The status and the compact history come from one consistent GetItem of the job (it used to be two)."""
    from botocore.client import BaseClient

    job = new_job(api)
    api.post(f"/api/jobs/{job['id']}/assign", {"agentId": make_agent(admin)["id"]})
    make_api_call = BaseClient._make_api_call  # type: ignore[attr-defined]
    reads: list[str] = []

    def counted(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "GetItem":
            reads.append(params["TableName"])
        return make_api_call(client, operation, params)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BaseClient, "_make_api_call", counted)
        reply = api.get(f"/api/jobs/{job['id']}")
    assert [log["status"] for log in reply.body["logs"]] == ["PENDING", "ASSIGNED"]
    jobs_table = services().settings.jobs_table
    assert reads.count(jobs_table) == 1, reads


def test_logs_are_in_order(api: Api, admin: Api, manual_start: None, queues: dict[str, str]) -> None:
    first, second = make_agent(admin), make_agent(admin)
    job = new_job(api)
    path = f"/api/jobs/{job['id']}"
    assert api.post(f"{path}/assign", {"agentId": first["id"]}).status == 200
    assert api.post(f"{path}/cancel").status == 200
    assert api.post(f"{path}/assign", {"agentId": second["id"]}).status == 200
    assert api.post(f"{path}/execute").status == 202
    logs = api.get(f"{path}/logs").body["logs"]
    assert [log["status"] for log in logs] == ["PENDING", "ASSIGNED", "CANCELLED", "ASSIGNED", "IN_PROGRESS"]
    assert [log["agentId"] for log in logs[1:]] == [first["id"], first["id"], second["id"], second["id"]]
    stamps = [log["createdAt"] for log in logs]
    assert stamps == sorted(stamps)
    assert all(log["jobId"] == job["id"] for log in logs)


# --- assign --------------------------------------------------------------------------------------
def test_assign_checks_inputs_against_the_agents_input_schema(api: Api, admin: Api, queues: dict[str, str]) -> None:
    agent = make_agent(admin, inputSchema=TOPIC_SCHEMA)
    job = new_job(api, inputData={"unrelated": True})
    path = f"/api/jobs/{job['id']}/assign"

    wrong_type = error_of(api.post(path, {"agentId": agent["id"], "inputs": {"topic": "t", "count": "three"}}), 400)
    assert wrong_type["field"] == "inputs"
    assert "count" in wrong_type["message"] and "integer" in wrong_type["message"]
    missing = error_of(api.post(path, {"agentId": agent["id"], "inputs": {"count": 2}}), 400)
    assert "'topic' is a required property" in missing["message"]
    # without `inputs` the job's own inputData is what must fit
    assert "'topic' is a required property" in error_of(api.post(path, {"agentId": agent["id"]}), 400)["message"]
    assert log_kinds(api, job["id"]) == ["PENDING"]

    reply = api.post(path, {"agentId": agent["id"], "inputs": {"topic": "rivers", "count": 2}})
    assert reply.status == 200, reply.body
    assert reply.body["job"]["assignedAgentId"] == agent["id"]
    assert reply.body["job"]["agentInputs"] == {"topic": "rivers", "count": 2}


def test_assign_to_an_unknown_or_inactive_agent_is_400(api: Api, admin: Api) -> None:
    job = new_job(api)
    path = f"/api/jobs/{job['id']}/assign"
    assert error_of(api.post(path, {"agentId": "no-such-agent"}), 400)["field"] == "agentId"
    retired = make_agent(admin)
    assert admin.delete(f"/api/admin/agents/{retired['id']}").status == 200
    assert error_of(api.post(path, {"agentId": retired["id"]}), 400)["field"] == "agentId"
    assert error_of(api.post(path, {}), 400)["field"] == "agentId"
    assert log_kinds(api, job["id"]) == ["PENDING"]


def test_assign_starts_the_job_at_once_by_default(api: Api, admin: Api, queues: dict[str, str]) -> None:
    agent = make_agent(admin)
    job = new_job(api)
    reply = api.post(f"/api/jobs/{job['id']}/assign", {"agentId": agent["id"]})
    assert reply.status == 200, reply.body
    assert (reply.body["job"]["status"], reply.body["job"]["attempt"]) == ("IN_PROGRESS", 1)
    assert drain(queues["EXECUTE_QUEUE_URL"]) == [{"kind": "execute", "jobId": job["id"], "attempt": 1}]
    assert drain(queues["EXECUTE_HIGH_QUEUE_URL"]) == []
    assert log_kinds(api, job["id"]) == ["PENDING", "ASSIGNED", "IN_PROGRESS"]
    stored = api.get(f"/api/jobs/{job['id']}").body["job"]
    assert (stored["status"], stored["attempt"], stored["assignedAgentId"]) == ("IN_PROGRESS", 1, agent["id"])


def test_urgent_jobs_ride_the_high_priority_queue(api: Api, admin: Api, queues: dict[str, str]) -> None:
    agent = make_agent(admin)
    for priority, queue in [(7, "EXECUTE_QUEUE_URL"), (8, "EXECUTE_HIGH_QUEUE_URL"), (10, "EXECUTE_HIGH_QUEUE_URL")]:
        job = new_job(api, priority=priority)
        assert api.post(f"/api/jobs/{job['id']}/assign", {"agentId": agent["id"]}).status == 200
        sent = {name: drain(url) for name, url in queues.items()}
        assert sent.pop(queue) == [{"kind": "execute", "jobId": job["id"], "attempt": 1}], priority
        assert all(messages == [] for messages in sent.values())


def test_with_auto_start_off_assign_waits_and_execute_starts(
    api: Api, admin: Api, manual_start: None, queues: dict[str, str]
) -> None:
    agent = make_agent(admin)
    job = new_job(api)
    reply = api.post(f"/api/jobs/{job['id']}/assign", {"agentId": agent["id"]})
    assert reply.status == 200, reply.body
    assert (reply.body["job"]["status"], reply.body["job"]["attempt"]) == ("ASSIGNED", 0)
    assert drain(queues["EXECUTE_QUEUE_URL"]) == []

    started = api.post(f"/api/jobs/{job['id']}/execute")
    assert started.status == 202, started.body
    assert (started.body["job"]["status"], started.body["job"]["attempt"]) == ("IN_PROGRESS", 1)
    assert drain(queues["EXECUTE_QUEUE_URL"]) == [{"kind": "execute", "jobId": job["id"], "attempt": 1}]
    assert error_of(api.post(f"/api/jobs/{job['id']}/execute"), 409)  # already running: not sent twice
    assert drain(queues["EXECUTE_QUEUE_URL"]) == []


def test_execute_without_an_agent_is_409(api: Api, queues: dict[str, str]) -> None:
    job = new_job(api)
    assert error_of(api.post(f"/api/jobs/{job['id']}/execute"), 409)["code"] == "CONFLICT"
    assert error_of(api.post(f"/api/jobs/{job['id']}/resubmit"), 409)
    assert drain(queues["EXECUTE_QUEUE_URL"]) == []


def test_cancel_an_assigned_job(api: Api, admin: Api, manual_start: None) -> None:
    agent = make_agent(admin)
    job = new_job(api)
    api.post(f"/api/jobs/{job['id']}/assign", {"agentId": agent["id"]})
    reply = api.post(f"/api/jobs/{job['id']}/cancel")
    assert reply.status == 200, reply.body
    assert reply.body["job"]["status"] == "PENDING"
    assert reply.body["job"]["assignedAgentId"] is None
    assert log_kinds(api, job["id"]) == ["PENDING", "ASSIGNED", "CANCELLED"]
    stored = api.get(f"/api/jobs/{job['id']}").body["job"]
    assert (stored["status"], stored["assignedAgentId"], stored["agentInputs"]) == ("PENDING", None, None)


def test_cancel_a_pending_job_cancels_it(api: Api) -> None:
    """DESIGN.md §14: PENDING → CANCELLED (only ASSIGNED keeps seed 003's unassign); tests/integration/test_cancel.py
    covers every other status."""
    job = new_job(api)
    reply = api.post(f"/api/jobs/{job['id']}/cancel")
    assert reply.status == 200 and reply.body["job"]["status"] == "CANCELLED", reply.body
    assert log_kinds(api, job["id"]) == ["PENDING", "CANCELLED"]


def test_auto_assign_queues_a_request_for_a_pending_job_only(api: Api, admin: Api, queues: dict[str, str]) -> None:
    job = new_job(api)
    assert drain(queues["VALIDATE_QUEUE_URL"]) == []  # autoAssign false: nothing was queued at create
    reply = api.post(f"/api/jobs/{job['id']}/auto-assign")
    assert reply.status == 202, reply.body
    assert reply.body["job"]["status"] == "PENDING"
    assert drain(queues["VALIDATE_QUEUE_URL"]) == [{"kind": "assign", "jobId": job["id"], "version": job["version"]}]

    agent = make_agent(admin)
    api.post(f"/api/jobs/{job['id']}/assign", {"agentId": agent["id"]})
    drain(queues["EXECUTE_QUEUE_URL"])
    assert error_of(api.post(f"/api/jobs/{job['id']}/auto-assign"), 409)
    assert drain(queues["VALIDATE_QUEUE_URL"]) == []


def test_create_with_an_agent_assigns_at_once(api: Api, admin: Api, queues: dict[str, str]) -> None:
    agent = make_agent(admin, inputSchema=TOPIC_SCHEMA)
    reply = api.post("/api/jobs", {"description": "d", "agentId": agent["id"], "inputData": {"topic": "tides"}})
    assert reply.status == 201, reply.body
    job = reply.body["job"]
    assert (job["assignedAgentId"], job["agentInputs"], job["status"], job["attempt"]) == (
        agent["id"],
        {"topic": "tides"},
        "IN_PROGRESS",
        1,
    )
    assert drain(queues["VALIDATE_QUEUE_URL"]) == []  # no auto-assign for a job that has its agent
    assert drain(queues["EXECUTE_QUEUE_URL"]) == [{"kind": "execute", "jobId": job["id"], "attempt": 1}]
    assert log_kinds(api, job["id"]) == ["PENDING", "ASSIGNED", "IN_PROGRESS"]


def test_create_with_an_agent_and_auto_start_off_stays_assigned(
    api: Api, admin: Api, manual_start: None, queues: dict[str, str]
) -> None:
    agent = make_agent(admin)
    job = api.post("/api/jobs", {"description": "d", "agentId": agent["id"]}).body["job"]
    assert (job["status"], job["assignedAgentId"]) == ("ASSIGNED", agent["id"])
    assert all(drain(url) == [] for url in queues.values())


def test_create_with_a_bad_agent_writes_no_job(api: Api, admin: Api, queues: dict[str, str]) -> None:
    agent = make_agent(admin, inputSchema=TOPIC_SCHEMA)
    retired = make_agent(admin, inputSchema=TOPIC_SCHEMA)
    assert admin.delete(f"/api/admin/agents/{retired['id']}").status == 200
    body = {"description": "d", "inputs": {"topic": "t"}}
    cases = [
        ({**body, "agentId": "no-such-agent"}, "agentId"),
        ({**body, "agentId": retired["id"]}, "agentId"),
        ({**body, "agentId": agent["id"], "inputs": {"topic": 42}}, "inputs"),
        ({"description": "d", "agentId": agent["id"], "inputData": {"other": 1}}, "inputs"),
    ]
    for request, field in cases:
        assert error_of(api.post("/api/jobs", request), 400)["field"] == field, request
    assert list_ids(api) == []
    assert list_ids(admin, "/api/admin/jobs") == []
    assert all(drain(url) == [] for url in queues.values())


# --- races ---------------------------------------------------------------------------------------
def test_two_stale_copies_one_assignment_wins(api: Api, admin: Api) -> None:
    """Two writers read the same PENDING job and both try to assign it: the conditional write on status
    and version lets exactly one through, and the loser leaves nothing behind (not even its log)."""
    first, second = make_agent(admin), make_agent(admin)
    job = new_job(api)
    jobs = services().jobs
    copy_a, copy_b = jobs.get(job["id"]), jobs.get(job["id"])
    assert copy_a is not None and copy_b is not None and copy_a == copy_b

    won = apply(jobs, copy_a, JobEvent.ASSIGN, "a wins", changes={"assigned_agent_id": first["id"]})
    assert won.status == "ASSIGNED" and won.version == copy_a.version + 1
    with pytest.raises(Conflict):
        apply(jobs, copy_b, JobEvent.ASSIGN, "b loses", changes={"assigned_agent_id": second["id"]})

    stored = jobs.get(job["id"])
    assert stored is not None
    assert (stored.status, stored.assigned_agent_id, stored.version) == ("ASSIGNED", first["id"], won.version)
    logs = jobs.logs(job["id"])
    assert [log.status for log in logs] == ["PENDING", "ASSIGNED"]
    assert [log.message for log in logs if log.status == "ASSIGNED"] == ["a wins"]


def test_a_stale_copy_cannot_undo_a_later_change(api: Api, admin: Api) -> None:
    """The version condition, not only the status one: a copy read before ASSIGN→CANCEL (status is
    PENDING again) must still lose."""
    agent = make_agent(admin)
    job = new_job(api)
    jobs = services().jobs
    stale = jobs.get(job["id"])
    assert stale is not None
    assigned = apply(jobs, stale, JobEvent.ASSIGN, "assigned", changes={"assigned_agent_id": agent["id"]})
    apply(jobs, assigned, JobEvent.UNASSIGN, "cancelled", changes={"assigned_agent_id": None})
    with pytest.raises(Conflict):
        apply(jobs, stale, JobEvent.ASSIGN, "stale", changes={"assigned_agent_id": agent["id"]})
    assert [log.status for log in jobs.logs(job["id"])] == ["PENDING", "ASSIGNED", "CANCELLED"]


@pytest.fixture
def atomic_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB checks a write's condition and applies it as one step; moto's in-process backend does
    not hold a lock across the two, so two threads can both pass a condition (seen here: about one
    race in thirty wrote both assignments). One lock around moto's writes restores DynamoDB's guarantee,
    so what races below is our code, not moto's bookkeeping."""
    lock = threading.RLock()

    def atomic(original: Callable[..., Any]) -> Callable[..., Any]:
        def write(self: Any, *args: Any, **kwargs: Any) -> Any:
            with lock:
                return original(self, *args, **kwargs)

        return write

    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        monkeypatch.setattr(DynamoDBBackend, name, atomic(getattr(DynamoDBBackend, name)))


def test_concurrent_assign_requests_one_wins(
    api: Api, admin: Api, atomic_dynamodb: None, queues: dict[str, str]
) -> None:
    """Two assign requests for one job at the same moment, through the handler: one 200, one 409.

    The two threads share one process, as two Lambda invocations never do: Powertools keeps the current
    event on a class attribute, so a request may read its twin's body. Both requests have the same route
    and shape (only the agent differs), so whichever body is read the outcome must be the same: exactly
    one assignment, and the job's agent is the winner's."""
    first, second = make_agent(admin), make_agent(admin)
    for _ in range(3):
        job = new_job(api)
        barrier = threading.Barrier(2)
        replies: list[Reply] = []

        def assign(agent_id: str, job_id: str = job["id"], gate: threading.Barrier = barrier) -> None:
            gate.wait()
            replies.append(api.post(f"/api/jobs/{job_id}/assign", {"agentId": agent_id}))

        threads = [threading.Thread(target=assign, args=(agent["id"],)) for agent in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(reply.status for reply in replies) == [200, 409], [r.body for r in replies]
        winner = next(reply for reply in replies if reply.status == 200).body["job"]
        assert log_kinds(api, job["id"]) == ["PENDING", "ASSIGNED", "IN_PROGRESS"]
        assert api.get(f"/api/jobs/{job['id']}").body["job"]["assignedAgentId"] == winner["assignedAgentId"]
        assert drain(queues["EXECUTE_QUEUE_URL"]) == [{"kind": "execute", "jobId": job["id"], "attempt": 1}]


# --- documentation -------------------------------------------------------------------------------
def test_openapi_document_is_public(api: Api) -> None:
    reply = api.as_user(None).get("/api/openapi.json")
    assert reply.status == 200, reply.body
    document = reply.body
    assert document["openapi"].startswith("3.")
    assert "CreateJobRequest" in json.dumps(document["components"])
    assert "secret" not in json.dumps(document["paths"]["/api/agents"])


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(method.upper(), path): op for path, ops in document["paths"].items() for method, op in ops.items()}


def test_the_document_covers_every_route_of_every_function(api: Api) -> None:
    """Issue 12, "The API document is the contract": it listed 20 of 46 routes (none of checkpoints,
    validate, metrics), 422 for the API's 400, no 201/202/401/403/404/409/413, no models, tags or security."""
    from agent_jobs.catalog import JOB_PREFIXES, ROUTES, Access

    document = api.as_user(None).get("/api/openapi.json").body
    found = operations(document)
    assert set(found) == {(route.method, route.path) for route in ROUTES}
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "a Cognito IdToken",
    }
    envelope = {"$ref": "#/components/schemas/ErrorEnvelope"}
    for route in ROUTES:
        op = found[(route.method, route.path)]
        where = f"{route.method} {route.path}"
        assert op.get("tags"), where
        codes = {int(code) for code in op["responses"]}
        assert (422 in codes) == route.idempotent and {400, 413} <= codes, where  # 422: a reused Idempotency-Key
        assert any(200 <= code < 300 for code in codes), where
        for code in (code for code in codes if code >= 300):  # every error answers the error envelope
            assert op["responses"][str(code)]["content"]["application/json"]["schema"] == envelope, (where, code)
        if route.access is Access.PUBLIC:  # no token; an agent's callback is signed instead (401: a bad signature)
            signed = route.path.startswith("/api/agent-callbacks/")
            assert "security" not in op and (401 in codes) == signed, where
        else:
            assert op["security"] == [{"bearerAuth": []}] and 401 in codes, where
        # 403: an admin route; a user route only where part of it is an admin's (sharing a template)
        admins_part = route.path.startswith("/api/templates") and route.method != "GET"
        assert (403 in codes) == (route.access is Access.ADMIN or admins_part), where
        from_template = route.method == "POST" and route.path in JOB_PREFIXES  # a templateId that names none
        assert (404 in codes) == ("{" in route.path or from_template), where
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        assert name not in document["components"]["schemas"]


def test_the_document_names_real_statuses_and_models(api: Api) -> None:
    document = api.as_user(None).get("/api/openapi.json").body
    found = operations(document)

    def success(method: str, path: str) -> tuple[int, str]:
        answers = found[(method, path)]["responses"]
        code = next(c for c in answers if c.startswith("2"))
        return int(code), answers[code]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]

    assert success("POST", "/api/jobs") == (201, "JobEnvelope")
    assert success("POST", "/api/agent-jobs") == (201, "JobEnvelope")
    assert success("POST", "/api/jobs/{id}/auto-assign") == (202, "JobEnvelope")
    assert success("GET", "/api/jobs") == (200, "JobPage")
    assert success("GET", "/api/jobs/{id}") == (200, "JobDetailEnvelope")
    assert success("GET", "/api/agents") == (200, "AgentCards")
    assert success("POST", "/api/admin/agents") == (201, "AgentEnvelope")
    assert success("POST", "/api/admin/agent-checkpoints/{id}") == (200, "CheckpointEnvelope")
    assert success("POST", "/api/admin/validate") == (200, "ValidationEnvelope")
    assert success("PUT", "/api/admin/agent-worker") == (200, "WorkerEnvelope")
    assert success("GET", "/api/admin/stats") == (200, "StatsEnvelope")
    assert "409" in found[("POST", "/api/jobs/{id}/assign")]["responses"]
    assert "503" in found[("POST", "/api/admin/validate")]["responses"]
    body = found[("DELETE", "/api/admin/agent-checkpoints/{id}")]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/ReasonRequest"}
    schemas = document["components"]["schemas"]
    assert "endpointUrl" not in schemas["AgentCard"]["properties"]
    assert "secret" not in schemas["AgentView"]["properties"] and "taskToken" not in json.dumps(schemas)
    identifier = found[("GET", "/api/jobs/{id}")]["parameters"][0]["schema"]
    assert (identifier["maxLength"], identifier["pattern"]) == (128, "^[A-Za-z0-9_-]{1,128}$")
    assert "\\S" in json.dumps(schemas["CreateJobRequest"]["properties"]["description"])


def test_queue_consumers_do_not_load_the_documents_routes() -> None:
    """Cold start: a consumer imports its own routes only; the whole document is built when asked for."""
    import subprocess
    import sys

    probe = (
        "import sys, importlib; importlib.import_module(sys.argv[1]);"
        "print(sorted(m for m in sys.modules if m.startswith('agent_jobs.api.')))"
    )
    loaded = {}
    for function in ("execute_job", "validate", "checkpoints", "metrics", "create_job"):
        out = subprocess.run(
            [sys.executable, "-c", probe, f"functions.{function}.handler"],
            capture_output=True,
            text=True,
            check=True,
            env={**__import__("os").environ, "PYTHONPATH": "layers/common:."},
        ).stdout
        loaded[function] = {name.removeprefix("agent_jobs.api.") for name in eval(out)}
    assert not {"jobs", "agents", "admin_jobs", "docs"} & loaded["execute_job"]
    assert not {"jobs", "agents", "admin_jobs", "docs", "worker", "stats"} & loaded["validate"]
    assert not {"jobs", "agents", "admin_jobs", "docs", "validation"} & loaded["checkpoints"]
    assert not {"checkpoints", "validation", "worker", "stats"} & loaded["create_job"]  # until asked


def test_swagger_page_is_public(api: Api) -> None:
    reply = api.as_user(None).get("/api/docs")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    page = reply.body["raw"]
    assert "swagger" in page.lower()
    # the whole document, with the bearer scheme Swagger's Authorize button offers
    assert '"bearerAuth"' in page and "/api/admin/agent-checkpoints/{id}" in page and "/api/admin/stats" in page
    as_json = api.as_user(None).get("/api/docs", query={"format": "json"})
    assert as_json.status == 200 and as_json.body == api.as_user(None).get("/api/openapi.json").body
