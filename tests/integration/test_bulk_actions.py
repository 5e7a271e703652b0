"""Bulk actions by ids (issue 16, DESIGN.md §16) through the real handler on moto: an owner's cancel and resubmit,
an admin's cancel, resubmit, complete and reassign. Each id is acted on as its single route would, and answers
in its own result; another user's id is 404 there and stays as it was."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest
from botocore.client import BaseClient

from agent_jobs.catalog import match_route
from agent_jobs.domain import bulk
from agent_jobs.domain.transitions import JobEvent
from agent_jobs.errors import Conflict
from agent_jobs.models.jobs import Job
from agent_jobs.services import services
from local.lambda_runtime import LocalContext
from tests.integration.conftest import Api, Reply, drain
from tests.integration.test_admin_jobs_api import move, running_job
from tests.integration.test_jobs_api import error_of, make_agent, new_job

OWNER_PATHS = ("/api/jobs/bulk", "/api/agent-jobs/bulk")
ADMIN_PATH = "/api/admin/jobs/bulk"


def results(reply: Reply) -> dict[str, dict[str, Any]]:
    """The per-id results of a bulk answer, by id (and the order is the request's)."""
    assert reply.status == 200, reply.body
    assert reply.body["success"] is True
    found = reply.body["results"]
    return {item["id"]: item for item in found}


def status_of(api: Api, job_id: str) -> str:
    reply = api.get(f"/api/jobs/{job_id}")
    assert reply.status == 200, reply.body
    return str(reply.body["job"]["status"])


# --- routing -------------------------------------------------------------------------------------
@pytest.mark.parametrize("prefix", ["/api/jobs", "/api/agent-jobs"])
def test_the_literal_bulk_path_reaches_the_bulk_handler_and_an_id_still_the_single_one(api: Api, prefix: str) -> None:
    """``/api/jobs/bulk/cancel`` fits ``/api/jobs/{id}/cancel`` with id="bulk": the route table (which the local
    gateway and the tests route by) and Powertools' resolver must both pick the literal path."""
    for action in ("cancel", "resubmit"):
        found = match_route("POST", f"{prefix}/bulk/{action}")
        assert found is not None and found[0].path == f"{prefix}/bulk/{action}" and found[1] == {}
    found = match_route("POST", f"{ADMIN_PATH}/complete")
    assert found is not None and found[0].path == f"{ADMIN_PATH}/complete"

    job = new_job(api)
    bulk_reply = api.post(f"{prefix}/bulk/cancel", {"ids": [job["id"]]})
    assert "job" not in bulk_reply.body
    assert results(bulk_reply)[job["id"]]["job"]["status"] == "CANCELLED"

    other = new_job(api)
    single = api.post(f"{prefix}/{other['id']}/cancel")
    assert single.status == 200 and "results" not in single.body
    assert single.body["job"]["status"] == "CANCELLED"
    bulk_job = api.post(f"{prefix}/bulk/cancel")  # no body: the bulk route's 400, not "job bulk not found"
    assert error_of(bulk_job, 400)["field"] == "body"


# --- owner ---------------------------------------------------------------------------------------
def test_an_owner_cancels_only_their_own_jobs(api: Api) -> None:
    bob = api.as_user("bob")
    mine = [new_job(api)["id"] for _ in range(3)]
    bobs = [new_job(bob)["id"] for _ in range(2)]
    ids = [mine[0], bobs[0], mine[1], "no-such-job", bobs[1], mine[2]]

    reply = api.post("/api/jobs/bulk/cancel", {"ids": ids, "reason": "clearing up"})
    got = results(reply)
    assert [item["id"] for item in reply.body["results"]] == ids  # one result per id, in the request's order
    for job_id in mine:
        assert got[job_id]["status"] == 200 and got[job_id]["job"]["status"] == "CANCELLED"
        assert "error" not in got[job_id]
        logs = api.get(f"/api/jobs/{job_id}/logs").body["logs"]
        assert (logs[-1]["status"], logs[-1]["message"], logs[-1]["actor"]) == (
            "CANCELLED",
            "cancelled: clearing up",
            "alice",
        )
    for job_id in [*bobs, "no-such-job"]:
        assert got[job_id]["status"] == 404 and got[job_id]["error"]["code"] == "NOT_FOUND"
        assert "job" not in got[job_id]
    for job_id in bobs:  # untouched: read back as their owner
        assert status_of(bob, job_id) == "PENDING"
        assert [log["status"] for log in bob.get(f"/api/jobs/{job_id}/logs").body["logs"]] == ["PENDING"]


def test_an_owner_bulk_cancel_answers_each_state_as_the_single_route(api: Api, admin: Api) -> None:
    pending = new_job(api)["id"]
    running = running_job(api, admin)["id"]  # IN_PROGRESS at its agent
    done = new_job(api)["id"]
    assert admin.post(f"/api/admin/jobs/{done}/complete", {"reason": "done by hand"}).status == 200
    got = results(api.post("/api/jobs/bulk/cancel", {"ids": [pending, running, done]}))
    assert {job_id: got[job_id]["status"] for job_id in got} == {pending: 200, running: 200, done: 409}
    assert got[done]["error"]["code"] == "CONFLICT" and "COMPLETED" in got[done]["error"]["message"]
    assert status_of(api, done) == "COMPLETED"
    for job_id in (pending, running):
        assert status_of(api, job_id) == "CANCELLED"


def test_an_owner_bulk_resubmit_runs_failed_jobs_again_and_refuses_the_others(
    api: Api, admin: Api, aws: dict[str, str]
) -> None:
    failed = running_job(api, admin)["id"]
    assert move(failed, JobEvent.FAIL, "agent unreachable") == "FAILED"
    unassigned = new_job(api)["id"]  # PENDING, no agent: 409 as on the single route
    bobs = running_job(api.as_user("bob"), admin)["id"]
    assert move(bobs, JobEvent.FAIL, "agent unreachable") == "FAILED"

    got = results(api.post("/api/agent-jobs/bulk/resubmit", {"ids": [failed, unassigned, bobs], "reason": "retry"}))
    assert (got[failed]["status"], got[failed]["job"]["status"], got[failed]["job"]["attempt"]) == (
        200,
        "IN_PROGRESS",
        2,
    )
    assert got[unassigned]["status"] == 409 and got[bobs]["status"] == 404
    assert drain(aws["EXECUTE_QUEUE_URL"]) == [{"kind": "execute", "jobId": failed, "attempt": 2}]  # only mine
    assert status_of(api, unassigned) == "PENDING"
    assert status_of(api.as_user("bob"), bobs) == "FAILED"


# --- admin ---------------------------------------------------------------------------------------
def test_admin_bulk_cancel_and_resubmit_act_on_anyones_jobs(api: Api, admin: Api, aws: dict[str, str]) -> None:
    alices, bobs = new_job(api)["id"], new_job(api.as_user("bob"))["id"]
    got = results(admin.post(f"{ADMIN_PATH}/cancel", {"ids": [alices, bobs, "gone"]}))
    assert {job_id: got[job_id]["status"] for job_id in got} == {alices: 200, bobs: 200, "gone": 404}
    logs = api.get(f"/api/jobs/{alices}/logs").body["logs"]
    assert (logs[-1]["status"], logs[-1]["actor"]) == ("CANCELLED", "root-admin")

    failed = running_job(api.as_user("carol"), admin)["id"]
    assert move(failed, JobEvent.FAIL, "agent unreachable") == "FAILED"
    got = results(admin.post(f"{ADMIN_PATH}/resubmit", {"ids": [failed, alices], "reason": "agent fixed"}))
    assert (got[failed]["status"], got[failed]["job"]["attempt"]) == (200, 2)
    assert got[alices]["status"] == 409  # CANCELLED is terminal
    last = api.as_user("carol").get(f"/api/jobs/{failed}/logs").body["logs"][-1]
    assert last["message"] == "resubmitted: by admin: agent fixed" and last["actor"] == "root-admin"
    assert drain(aws["EXECUTE_QUEUE_URL"]) == [{"kind": "execute", "jobId": failed, "attempt": 2}]


def test_admin_bulk_complete_needs_a_reason_and_completes_each_open_job(api: Api, admin: Api) -> None:
    open_jobs = [new_job(api)["id"], new_job(api.as_user("bob"))["id"]]
    cancelled = new_job(api)["id"]
    assert api.post(f"/api/jobs/{cancelled}/cancel").status == 200

    assert error_of(admin.post(f"{ADMIN_PATH}/complete", {"ids": open_jobs}), 400)["field"] == "reason"
    body = {"ids": [*open_jobs, cancelled], "reason": "checked by hand", "result": {"summary": "ok"}}
    got = results(admin.post(f"{ADMIN_PATH}/complete", body))
    for job_id in open_jobs:
        assert got[job_id]["status"] == 200
        assert (got[job_id]["job"]["status"], got[job_id]["job"]["result"]) == ("COMPLETED", {"summary": "ok"})
    assert got[cancelled]["status"] == 409
    assert status_of(api, cancelled) == "CANCELLED"


def test_admin_bulk_reassign_checks_each_jobs_inputs_against_the_agents_schema(
    api: Api, admin: Api, aws: dict[str, str]
) -> None:
    other = make_agent(admin, inputSchema={"type": "object", "required": ["topic"]})
    fits = running_job(api, admin, inputData={"topic": "birds"})["id"]
    misfit = running_job(api, admin, inputData={"n": 1})["id"]
    running = running_job(api, admin, inputData={"topic": "fish"})["id"]  # fits, but still at its agent
    for job_id in (fits, misfit):
        assert move(job_id, JobEvent.FAIL, "agent unreachable") == "FAILED"

    got = results(admin.post(f"{ADMIN_PATH}/reassign", {"ids": [fits, misfit, running], "agentId": other["id"]}))
    assert got[fits]["status"] == 200
    assert (got[fits]["job"]["assignedAgentId"], got[fits]["job"]["attempt"]) == (other["id"], 2)
    assert got[misfit]["status"] == 400 and got[misfit]["error"]["field"] == "inputs"  # its inputData lacks topic
    assert got[running]["status"] == 409
    assert status_of(api, misfit) == "FAILED"
    assert drain(aws["EXECUTE_QUEUE_URL"]) == [{"kind": "execute", "jobId": fits, "attempt": 2}]

    with_inputs = {"ids": [misfit], "agentId": other["id"], "inputs": {"topic": "x"}}
    moved = results(admin.post(f"{ADMIN_PATH}/reassign", with_inputs))[misfit]
    assert moved["status"] == 200 and moved["job"]["agentInputs"] == {"topic": "x"}
    unknown = results(admin.post(f"{ADMIN_PATH}/reassign", {"ids": [running], "agentId": "nope"}))[running]
    assert unknown["status"] == 400 and unknown["error"]["field"] == "agentId"


def test_admin_bulk_routes_need_the_admins_group(api: Api) -> None:
    job = new_job(api)["id"]
    for action in ("cancel", "resubmit", "complete", "reassign"):
        assert error_of(api.post(f"{ADMIN_PATH}/{action}", {"ids": [job], "reason": "x", "agentId": "a"}), 403)
    assert status_of(api, job) == "PENDING"


# --- limits --------------------------------------------------------------------------------------
JOB = "<the job>"  # stands for the id of a real job the test made: a bad request must leave it untouched


@pytest.mark.parametrize(
    ("ids", "field"),
    [
        ([JOB, *(f"job-{n}" for n in range(100))], "ids"),  # 101
        ([], "ids"),
        (None, "ids"),
        (JOB, "ids"),  # a string, not a list
        ([JOB, "job-2", JOB], "ids"),  # repeated
        ([JOB, "not/an/id"], "ids.1"),
        ([JOB, "x" * 129], "ids.1"),
        ([JOB, 7], "ids.1"),
    ],
)
def test_a_malformed_list_of_ids_is_400_for_the_whole_request(api: Api, ids: Any, field: str) -> None:
    job = new_job(api)["id"]
    body = {"ids": [job if item == JOB else item for item in ids] if isinstance(ids, list) else (job if ids else ids)}
    error = error_of(api.post("/api/jobs/bulk/cancel", body), 400)
    assert (error["code"], error["field"]) == ("VALIDATION_ERROR", field)
    assert status_of(api, job) == "PENDING"  # nothing was acted on


def test_one_hundred_distinct_ids_are_accepted_and_other_members_refused(api: Api) -> None:
    job = new_job(api)["id"]
    hundred = [job, *(f"job-{n}" for n in range(99))]
    got = results(api.post("/api/jobs/bulk/cancel", {"ids": hundred}))
    assert len(got) == 100 and got[job]["status"] == 200
    assert {item["status"] for job_id, item in got.items() if job_id != job} == {404}
    assert error_of(api.post("/api/jobs/bulk/cancel", {"ids": [job], "force": True}), 400)["field"] == "force"
    assert error_of(api.post("/api/jobs/bulk/cancel", {"ids": [job], "reason": "r" * 2001}), 400)["field"] == "reason"


# --- idempotency ---------------------------------------------------------------------------------
def test_an_idempotency_key_replays_the_first_bulk_answer(api: Api, admin: Api, aws: dict[str, str]) -> None:
    failed = running_job(api, admin)["id"]
    assert move(failed, JobEvent.FAIL, "agent unreachable") == "FAILED"
    body = {"ids": [failed], "reason": "once"}
    key = {"Idempotency-Key": "bulk-resubmit-1"}

    first = api.post("/api/jobs/bulk/resubmit", body, headers=key)
    assert results(first)[failed]["job"]["attempt"] == 2
    again = api.post("/api/jobs/bulk/resubmit", body, headers=key)
    assert again.status == 200 and again.body == first.body and again.headers["Idempotent-Replayed"] == "true"
    assert drain(aws["EXECUTE_QUEUE_URL"]) == [{"kind": "execute", "jobId": failed, "attempt": 2}]  # ran once
    assert len([log for log in api.get(f"/api/jobs/{failed}/logs").body["logs"] if log["status"] == "IN_PROGRESS"]) == 2

    reused = api.post("/api/jobs/bulk/resubmit", {"ids": [failed]}, headers=key)
    assert error_of(reused, 422)["code"] == "IDEMPOTENCY_KEY_REUSED"
    fresh = api.post("/api/jobs/bulk/resubmit", body)  # without the key it is a new request: running now, 409
    assert results(fresh)[failed]["status"] == 409


# --- bounded time --------------------------------------------------------------------------------
AWS_CALLS_PER_CANCEL = 3  # GetItem (the job, consistently), UpdateItem (the job and its history), Query (checkpoints)


def test_one_hundred_cancels_cost_three_calls_each(
    api: Api, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The time bound, measured where it means something: moto's wall time says little about AWS. What carries over is
    the number of calls: three per cancel of a PENDING job, at ~5-25 ms each on AWS, so 100 take a few seconds
    of the 29 s. The wall time on moto is printed; the deadline itself has its own tests below."""
    ids = [new_job(api)["id"] for _ in range(100)]
    calls: Counter[str] = Counter()
    make_api_call = BaseClient._make_api_call  # type: ignore[attr-defined]

    def counted(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        calls[operation] += 1
        return make_api_call(client, operation, params)

    with monkeypatch.context() as patch:
        patch.setattr(LocalContext, "get_remaining_time_in_millis", lambda self: 300_000)  # a loaded CI
        patch.setattr(BaseClient, "_make_api_call", counted)
        started = time.monotonic()
        got = results(api.post("/api/jobs/bulk/cancel", {"ids": ids, "reason": "bulk"}))
        took = time.monotonic() - started
    with capsys.disabled():
        print(f"\n100 bulk cancels: {took:.2f} s on moto, AWS calls {dict(calls)}")
    assert [got[job_id]["status"] for job_id in ids] == [200] * 100
    assert all(got[job_id]["job"]["status"] == "CANCELLED" for job_id in ids)
    assert sum(calls.values()) <= AWS_CALLS_PER_CANCEL * 100
    stored = [services().jobs.get(job_id) for job_id in ids]  # read back from the table
    assert {job.status.value for job in stored if job is not None} == {"CANCELLED"} and None not in stored


def test_a_request_with_no_time_left_acts_on_nothing_and_says_so(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The handler takes its deadline from the function's remaining time (the Lambda context)."""
    ids = [new_job(api)["id"] for _ in range(3)]
    left = int(bulk.MARGIN_SECONDS * 1000) - 1000  # less than one slow item: nothing may start
    monkeypatch.setattr(LocalContext, "get_remaining_time_in_millis", lambda self: left)
    got = results(api.post("/api/jobs/bulk/cancel", {"ids": ids}))
    assert [(item["status"], item["error"]["code"]) for item in got.values()] == [(503, "NOT_ATTEMPTED")] * 3
    assert [status_of(api, job_id) for job_id in ids] == ["PENDING"] * 3


def test_items_not_started_before_the_deadline_answer_503_and_are_not_run() -> None:
    ran: list[str] = []

    def act(job_id: str) -> Job:
        ran.append(job_id)
        raise Conflict("should not run")

    past = bulk.run_each(["a", "b"], act, deadline=time.monotonic() - 1)
    assert [(r.id, r.status, (r.error or {}).get("code")) for r in past] == [
        ("a", 503, "NOT_ATTEMPTED"),
        ("b", 503, "NOT_ATTEMPTED"),
    ]
    assert ran == []
    assert bulk.deadline_after(29_000) - time.monotonic() == pytest.approx(29 - bulk.MARGIN_SECONDS, abs=0.5)


def test_a_slow_batch_stops_starting_items_at_the_deadline() -> None:
    """Items of 0.2 s against a 0.5 s budget: the first few run, the rest answer 503 without running."""

    def slow(job_id: str) -> Job:
        time.sleep(0.2)
        raise Conflict(f"{job_id} is finished")

    got = bulk.run_each([f"j{n}" for n in range(10)], slow, deadline=time.monotonic() + 0.5)
    statuses = [r.status for r in got]
    assert 1 <= statuses.count(409) <= 4 and statuses.count(503) >= 6
    assert statuses == sorted(statuses)  # those run come first: the order of the ids


def test_an_unexpected_error_in_one_item_is_its_500_and_the_others_still_run() -> None:
    def flaky(job_id: str) -> Job:
        if job_id == "bad":
            raise RuntimeError("boom")
        raise Conflict("finished")

    got = bulk.run_each(["ok-1", "bad", "ok-2"], flaky, deadline=time.monotonic() + 10)
    assert [(r.status, (r.error or {})["code"]) for r in got] == [
        (409, "CONFLICT"),
        (500, "INTERNAL_ERROR"),
        (409, "CONFLICT"),
    ]
    assert "boom" not in str(got[1].to_api())  # no internals in an answer


def test_the_bulk_routes_are_documented(api: Api) -> None:
    """Each bulk route's OpenAPI operation: the request model, the per-id results model, 400 and the rest."""
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    from agent_jobs.api import bulk as bulk_api
    from agent_jobs.api.app import BEARER
    from agent_jobs.api.docs import _copy_routes

    app = APIGatewayHttpResolver(enable_validation=True)
    _copy_routes(bulk_api.router, app)
    document = json.loads(app.get_openapi_json_schema(security_schemes={BEARER: HTTPBearer()}))
    paths = document["paths"]
    expected = [f"{p}/{a}" for p in OWNER_PATHS for a in ("cancel", "resubmit")]
    expected += [f"{ADMIN_PATH}/{a}" for a in ("cancel", "resubmit", "complete", "reassign")]
    assert sorted(paths) == sorted(expected)
    for path in expected:
        op = paths[path]["post"]
        assert {"200", "400", "401", "409", "413", "422"} <= set(op["responses"]), path
        assert ("403" in op["responses"]) == path.startswith("/api/admin/"), path
        assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("BulkResults")
    ids = document["components"]["schemas"]["BulkReasonRequest"]["properties"]["ids"]
    assert (ids["minItems"], ids["maxItems"]) == (1, 100)
