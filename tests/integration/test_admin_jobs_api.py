"""The admin job routes through the real handler on moto: list everything, read anything, force a
completion or a resubmission, reassign (DESIGN.md §2 table, §3 Admin, §4)."""

from __future__ import annotations

from typing import Any

import pytest

from agent_jobs.domain.lifecycle import apply
from agent_jobs.domain.transitions import JobEvent
from agent_jobs.services import services
from tests.integration.conftest import Api, drain
from tests.integration.test_jobs_api import error_of, log_kinds, make_agent, new_job, pages


def running_job(api: Api, admin: Api, **overrides: Any) -> dict[str, Any]:
    """A job that was assigned and started (IN_PROGRESS, attempt 1); its execute message is consumed."""
    agent = make_agent(admin)
    job = new_job(api, agentId=agent["id"], **overrides)
    assert (job["status"], job["attempt"]) == ("IN_PROGRESS", 1)
    drain(services().settings.execute_queue_url)
    drain(services().settings.execute_high_queue_url)
    return job


def move(job_id: str, event: JobEvent, message: str) -> str:
    """Moves a stored job by ``event`` the way the pipeline does (lifecycle.apply); answers the new status."""
    jobs = services().jobs
    current = jobs.get(job_id)
    assert current is not None
    return apply(jobs, current, event, message).status.value


def ids(jobs: list[dict[str, Any]]) -> list[str]:
    return [job["id"] for job in jobs]


# --- list and read -------------------------------------------------------------------------------
def test_admin_lists_every_users_jobs_in_pages(api: Api, admin: Api) -> None:
    bob = api.as_user("bob")
    created = [new_job(user, name=f"{name} {i}")["id"] for i in range(3) for user, name in ((api, "a"), (bob, "b"))]
    got = pages(admin, "/api/admin/jobs", 4)
    assert [len(page["jobs"]) for page in got] == [4, 2]
    listed = [job for page in got for job in page["jobs"]]
    assert sorted(ids(listed)) == sorted(created)  # everyone's, each once
    assert {job["userId"] for job in listed} == {"alice", "bob"}
    stamps = [job["createdAt"] for job in listed]
    assert stamps == sorted(stamps, reverse=True)
    assert ids(api.get("/api/jobs").body["jobs"]) != ids(listed)  # a user's list is only their own
    assert len(api.get("/api/jobs").body["jobs"]) == 3


def test_admin_list_filters_by_status_and_job_type(api: Api, admin: Api) -> None:
    pending = [new_job(api)["id"], new_job(api.as_user("bob"), jobType="code-generation")["id"]]
    started = [running_job(api, admin)["id"], running_job(api.as_user("carol"), admin)["id"]]
    failed = running_job(api, admin)["id"]
    assert move(failed, JobEvent.FAIL, "agent unreachable") == "FAILED"

    in_progress = pages(admin, "/api/admin/jobs", 1, status="IN_PROGRESS")
    assert [len(page["jobs"]) for page in in_progress] == [1, 1]  # two pages of one
    assert sorted(job["id"] for page in in_progress for job in page["jobs"]) == sorted(started)
    assert sorted(ids(admin.get("/api/admin/jobs", query={"status": "PENDING"}).body["jobs"])) == sorted(pending)
    assert ids(admin.get("/api/admin/jobs", query={"status": "FAILED"}).body["jobs"]) == [failed]
    assert admin.get("/api/admin/jobs", query={"status": "COMPLETED"}).body["jobs"] == []
    by_type = admin.get("/api/admin/jobs", query={"jobType": "code-generation"}).body["jobs"]
    assert ids(by_type) == [pending[1]]
    both = admin.get("/api/admin/jobs", query={"status": "PENDING", "jobType": "code-generation"}).body["jobs"]
    assert ids(both) == [pending[1]]
    unfiltered = pages(admin, "/api/admin/jobs", 2)
    assert len({job["id"] for page in unfiltered for job in page["jobs"]}) == 5
    token = in_progress[0]["nextToken"]
    assert error_of(admin.get("/api/admin/jobs", query={"status": "PENDING", "nextToken": token}), 400)["field"] == (
        "nextToken"
    )


def test_admin_reads_any_job_with_its_history(api: Api, admin: Api) -> None:
    job = running_job(api.as_user("bob"), admin)
    reply = admin.get(f"/api/admin/jobs/{job['id']}")
    assert reply.status == 200, reply.body
    assert reply.body["job"]["userId"] == "bob"
    assert [log["status"] for log in reply.body["logs"]] == ["PENDING", "ASSIGNED", "IN_PROGRESS"]
    assert reply.body["checkpoints"] == [] and len(reply.body["timeline"]) == 3
    assert error_of(admin.get("/api/admin/jobs/no-such-job"), 404)


# --- force complete ------------------------------------------------------------------------------
def test_force_complete_records_who_and_why(api: Api, admin: Api) -> None:
    job = running_job(api, admin)
    reply = admin.post(
        f"/api/admin/jobs/{job['id']}/complete", {"reason": "checked by hand", "result": {"summary": "ok"}}
    )
    assert reply.status == 200, reply.body
    assert (reply.body["job"]["status"], reply.body["job"]["result"]) == ("COMPLETED", {"summary": "ok"})
    logs = api.get(f"/api/jobs/{job['id']}/logs").body["logs"]
    last = logs[-1]
    assert last["status"] == "COMPLETED"
    assert last["actor"] == "root-admin"
    assert "checked by hand" in last["message"]
    stored = api.get(f"/api/jobs/{job['id']}").body["job"]
    assert (stored["status"], stored["result"]) == ("COMPLETED", {"summary": "ok"})

    again = error_of(admin.post(f"/api/admin/jobs/{job['id']}/complete", {"reason": "twice"}), 409)
    assert again["code"] == "CONFLICT" and "COMPLETED" in again["message"]
    assert len(api.get(f"/api/jobs/{job['id']}/logs").body["logs"]) == len(logs)


def test_force_complete_works_from_any_open_state_and_needs_a_reason(api: Api, admin: Api) -> None:
    pending = new_job(api)
    assert error_of(admin.post(f"/api/admin/jobs/{pending['id']}/complete", {}), 400)["field"] == "reason"
    assert error_of(admin.post(f"/api/admin/jobs/{pending['id']}/complete", {"reason": ""}), 400)["field"] == "reason"
    assert log_kinds(api, pending["id"]) == ["PENDING"]
    reply = admin.post(f"/api/admin/jobs/{pending['id']}/complete", {"reason": "not needed any more"})
    assert reply.status == 200 and reply.body["job"]["status"] == "COMPLETED"
    assert reply.body["job"]["result"] is None

    rejected = running_job(api, admin)
    assert move(rejected["id"], JobEvent.REJECT, "checkpoint rejected") == "REJECTED"
    reply = admin.post(f"/api/admin/jobs/{rejected['id']}/complete", {"reason": "overruled"})
    assert reply.status == 200 and reply.body["job"]["status"] == "COMPLETED"


# --- force resubmit ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("event", "status"),
    [(JobEvent.FAIL, "FAILED"), (JobEvent.REQUIRE_RESUBMISSION, "RESUBMISSION_REQUIRED")],
)
def test_force_resubmit_runs_the_next_attempt(
    api: Api, admin: Api, aws: dict[str, str], event: JobEvent, status: str
) -> None:
    job = running_job(api, admin, priority=9)
    assert move(job["id"], event, "the first attempt did not do") == status

    reply = admin.post(f"/api/admin/jobs/{job['id']}/resubmit", {"reason": "agent fixed"})
    assert reply.status == 202, reply.body
    assert (reply.body["job"]["status"], reply.body["job"]["attempt"]) == ("IN_PROGRESS", 2)
    assert drain(aws["EXECUTE_HIGH_QUEUE_URL"]) == [{"kind": "execute", "jobId": job["id"], "attempt": 2}]
    assert drain(aws["EXECUTE_QUEUE_URL"]) == []
    logs = api.get(f"/api/jobs/{job['id']}/logs").body["logs"]
    assert [log["status"] for log in logs] == ["PENDING", "ASSIGNED", "IN_PROGRESS", status, "IN_PROGRESS"]
    assert logs[-1]["actor"] == "root-admin" and "agent fixed" in logs[-1]["message"]
    assert logs[-1]["attempt"] == 2

    # running again: a second resubmit is refused and sends nothing
    assert error_of(admin.post(f"/api/admin/jobs/{job['id']}/resubmit"), 409)
    assert drain(aws["EXECUTE_HIGH_QUEUE_URL"]) == []


def test_force_resubmit_without_a_body_and_refusals(api: Api, admin: Api, aws: dict[str, str]) -> None:
    job = running_job(api, admin)
    assert move(job["id"], JobEvent.FAIL, "agent unreachable") == "FAILED"
    assert admin.post(f"/api/admin/jobs/{job['id']}/resubmit").status == 202
    assert drain(aws["EXECUTE_QUEUE_URL"]) == [{"kind": "execute", "jobId": job["id"], "attempt": 2}]
    assert error_of(admin.post(f"/api/admin/jobs/{new_job(api)['id']}/resubmit"), 409)  # PENDING: no agent
    assert error_of(admin.post("/api/admin/jobs/no-such-job/resubmit"), 404)
    # the owner may resubmit too (through the user route)
    assert move(job["id"], JobEvent.REQUIRE_RESUBMISSION, "judge said no") == "RESUBMISSION_REQUIRED"
    mine = api.post(f"/api/jobs/{job['id']}/resubmit", {"reason": "clearer criteria"})
    assert mine.status == 202 and mine.body["job"]["attempt"] == 3


# --- reassign ------------------------------------------------------------------------------------
def test_reassign_a_failed_job_to_another_agent(api: Api, admin: Api, aws: dict[str, str]) -> None:
    job = running_job(api, admin)
    other = make_agent(admin, inputSchema={"type": "object", "required": ["topic"]})
    assert move(job["id"], JobEvent.FAIL, "agent unreachable") == "FAILED"

    bad = error_of(admin.post(f"/api/admin/jobs/{job['id']}/reassign", {"agentId": other["id"]}), 400)
    assert bad["field"] == "inputs"  # the job's inputData does not fit the new agent's schema
    assert error_of(admin.post(f"/api/admin/jobs/{job['id']}/reassign", {"agentId": "nope"}), 400)["field"] == (
        "agentId"
    )

    reply = admin.post(f"/api/admin/jobs/{job['id']}/reassign", {"agentId": other["id"], "inputs": {"topic": "x"}})
    assert reply.status == 200, reply.body
    moved = reply.body["job"]
    assert (moved["assignedAgentId"], moved["agentInputs"]) == (other["id"], {"topic": "x"})
    assert (moved["status"], moved["attempt"]) == ("IN_PROGRESS", 2)  # auto-start is on by default
    assert drain(aws["EXECUTE_QUEUE_URL"]) == [{"kind": "execute", "jobId": job["id"], "attempt": 2}]
    logs = api.get(f"/api/jobs/{job['id']}/logs").body["logs"]
    assert [log["status"] for log in logs][-3:] == ["FAILED", "ASSIGNED", "IN_PROGRESS"]
    assert logs[-2]["agentId"] == other["id"] and logs[-2]["actor"] == "root-admin"


def test_reassign_refuses_a_running_or_pending_job(api: Api, admin: Api) -> None:
    other = make_agent(admin)
    running = running_job(api, admin)
    assert error_of(admin.post(f"/api/admin/jobs/{running['id']}/reassign", {"agentId": other["id"]}), 409)
    pending = new_job(api)
    assert error_of(admin.post(f"/api/admin/jobs/{pending['id']}/reassign", {"agentId": other["id"]}), 409)
    assert log_kinds(api, pending["id"]) == ["PENDING"]
