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
    assert drain(queues["VALIDATE_QUEUE_URL"]) == [{"kind": "assign", "jobId": job["id"]}]  # auto-assign by default


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


def test_cancel_a_pending_job_is_409(api: Api) -> None:
    job = new_job(api)
    error = error_of(api.post(f"/api/jobs/{job['id']}/cancel"), 409)
    assert "PENDING" in error["message"]
    assert log_kinds(api, job["id"]) == ["PENDING"]


def test_auto_assign_queues_a_request_for_a_pending_job_only(api: Api, admin: Api, queues: dict[str, str]) -> None:
    job = new_job(api)
    assert drain(queues["VALIDATE_QUEUE_URL"]) == []  # autoAssign false: nothing was queued at create
    reply = api.post(f"/api/jobs/{job['id']}/auto-assign")
    assert reply.status == 202, reply.body
    assert reply.body["job"]["status"] == "PENDING"
    assert drain(queues["VALIDATE_QUEUE_URL"]) == [{"kind": "assign", "jobId": job["id"]}]

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
    apply(jobs, assigned, JobEvent.CANCEL, "cancelled", changes={"assigned_agent_id": None})
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
    assert {"/api/jobs", "/api/jobs/{id}", "/api/jobs/{id}/assign", "/api/agents", "/api/admin/jobs"} <= set(
        document["paths"]
    )
    assert "CreateJobRequest" in json.dumps(document["components"])
    assert "secret" not in json.dumps(document["paths"]["/api/agents"])


def test_swagger_page_is_public(api: Api) -> None:
    reply = api.as_user(None).get("/api/docs")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    assert "swagger" in reply.body["raw"].lower()
