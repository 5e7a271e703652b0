"""Cancel anywhere (issue 14 item 3, DESIGN.md §14): ``POST /api/jobs/{id}/cancel`` from every status, on moto
with real Step Functions execution, a real local agent (slow when the test needs an answer that arrives after
the cancel) and a real local judge.

A cancelled job never completes: not when its agent answers a second later, not through its workflow, not by
an admin's force-complete; its execution is stopped, its PENDING checkpoints are CANCELLED, and an agent that
declared ``cancelUrl`` gets a signed notice."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from agent_jobs.integrations.aws import client
from agent_jobs.integrations.signing import verify
from agent_jobs.services import reset
from tests.fixtures.agent_server import AgentServer, wait_until
from tests.fixtures.checkpoint_waits import wait_arn, wait_status, waits_of
from tests.fixtures.openai_server import OpenAICompatServer, fail_reply
from tests.integration.conftest import Api, deliver, run_queues, run_until
from tests.integration.test_checkpoints import SECRET, pending_checkpoints, stack

__all__ = ["stack"]  # the fixture: moto, a judge that passes, the test agent server


def register(admin: Api, url: str, job_type: str = "simple-task", **extra: Any) -> str:
    body = {"name": f"{job_type}-agent", "endpointUrl": url, "secret": SECRET, "jobTypes": [job_type], **extra}
    reply = admin.post("/api/admin/agents", body)
    assert reply.status == 201, reply.body
    return str(reply.body["agent"]["id"])


def create(api: Api, agent_id: str | None = None, job_type: str = "simple-task", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "jobType": job_type,
        "description": "Generate authentication module",
        "acceptanceCriteria": "The files implement authentication",
        "inputData": {"files": [{"path": "a.ts", "content": "x"}]},
        **extra,
    }
    if agent_id:
        body["agentId"] = agent_id
    else:
        body["autoAssign"] = False
    reply = api.post("/api/jobs", body)
    assert reply.status == 201, reply.body
    return dict(reply.body["job"])


def job_of(api: Api, job_id: str) -> dict[str, Any]:
    return dict(api.get(f"/api/jobs/{job_id}").body["job"])


def log_kinds(api: Api, job_id: str) -> list[str]:
    return [log["status"] for log in api.get(f"/api/jobs/{job_id}/logs").body["logs"]]


def cancel(api: Api, job_id: str, reason: str | None = "not needed any more") -> Any:
    return api.post(f"/api/jobs/{job_id}/cancel", {"reason": reason} if reason else None)


def assert_cancelled(api: Api, job_id: str, reply: Any) -> dict[str, Any]:
    assert reply.status == 200, reply.body
    assert reply.body["job"]["status"] == "CANCELLED"
    job = job_of(api, job_id)
    assert job["status"] == "CANCELLED"
    last = api.get(f"/api/jobs/{job_id}/logs").body["logs"]
    cancelled = [log for log in last if log["status"] == "CANCELLED"]
    assert cancelled[-1]["message"] == "cancelled: not needed any more" and cancelled[-1]["actor"]
    return job


def assert_stays_cancelled(api: Api, admin: Api, job_id: str) -> None:
    """Every way back is refused (409), by the owner and by an admin, and nothing changes."""
    for path in ("cancel", "execute", "resubmit"):
        reply = api.post(f"/api/jobs/{job_id}/{path}")
        assert reply.status == 409, (path, reply.body)
        assert "CANCELLED" in reply.body["error"]["message"]
    assert admin.post(f"/api/admin/jobs/{job_id}/complete", {"reason": "force it"}).status == 409
    assert admin.post(f"/api/admin/jobs/{job_id}/resubmit", {"reason": "again"}).status == 409
    assert job_of(api, job_id)["status"] == "CANCELLED"


# --- every status ---------------------------------------------------------------------------------------
def test_a_pending_job_is_cancelled(stack: dict[str, Any], api: Api, admin: Api) -> None:
    job = create(api)
    reply = cancel(api, job["id"])
    assert_cancelled(api, job["id"], reply)
    assert log_kinds(api, job["id"]) == ["PENDING", "CANCELLED"]
    assert_stays_cancelled(api, admin, job["id"])


def test_an_assigned_job_is_unassigned_as_in_seed_003(
    stack: dict[str, Any], api: Api, admin: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTO_START_ON_ASSIGN", "false")
    reset()
    job = create(api, register(admin, stack["agents"].url("/fast")))
    assert job["status"] == "ASSIGNED"
    reply = cancel(api, job["id"])
    assert reply.status == 200 and reply.body["job"]["status"] == "PENDING", reply.body
    assert reply.body["job"]["assignedAgentId"] is None
    assert log_kinds(api, job["id"]) == ["PENDING", "ASSIGNED", "CANCELLED"]
    assert cancel(api, job["id"]).body["job"]["status"] == "CANCELLED"  # a second cancel: now for good


def test_a_queued_job_is_cancelled_and_its_agent_never_called(stack: dict[str, Any], api: Api, admin: Api) -> None:
    agents: AgentServer = stack["agents"]
    job = create(api, register(admin, agents.url("/fast")))
    assert job["status"] == "IN_PROGRESS"  # started on assignment, its message still on the queue
    assert_cancelled(api, job["id"], cancel(api, job["id"]))
    run_queues(stack["env"])
    assert agents.requests == []  # the queued attempt was dropped
    assert_stays_cancelled(api, admin, job["id"])


def test_a_failed_job_is_cancelled(stack: dict[str, Any], api: Api, admin: Api) -> None:
    job = create(api, register(admin, stack["agents"].url("/offschema"), outputSchema={"required": ["result"]}))
    run_queues(stack["env"])
    assert job_of(api, job["id"])["status"] == "FAILED"
    assert_cancelled(api, job["id"], cancel(api, job["id"]))
    assert_stays_cancelled(api, admin, job["id"])


def test_a_job_waiting_for_resubmission_is_cancelled(
    stack: dict[str, Any], api: Api, admin: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    judge = OpenAICompatServer(lambda request: fail_reply())
    judge.start()
    try:
        monkeypatch.setenv("OPENAI_BASE_URL", judge.base_url)
        reset()
        job = create(api, register(admin, stack["agents"].url("/fast")), autoResubmit=False)
        run_queues(stack["env"])
        assert job_of(api, job["id"])["status"] == "RESUBMISSION_REQUIRED"
        assert_cancelled(api, job["id"], cancel(api, job["id"]))
        assert_stays_cancelled(api, admin, job["id"])
    finally:
        judge.stop()


@pytest.mark.parametrize("reason", [None, "changed my mind"])
def test_the_reason_is_optional(stack: dict[str, Any], api: Api, reason: str | None) -> None:
    job = create(api)
    reply = cancel(api, job["id"], reason)
    assert reply.status == 200 and reply.body["job"]["status"] == "CANCELLED", reply.body
    (entry,) = [log for log in api.get(f"/api/jobs/{job['id']}/logs").body["logs"] if log["status"] == "CANCELLED"]
    assert entry["message"] == ("cancelled" + (f": {reason}" if reason else ""))


def test_a_reason_over_the_limit_is_400(stack: dict[str, Any], api: Api) -> None:
    job = create(api)
    reply = api.post(f"/api/jobs/{job['id']}/cancel", {"reason": "x" * 2001})
    assert reply.status == 400 and reply.body["error"]["field"] == "reason", reply.body
    assert job_of(api, job["id"])["status"] == "PENDING"


# --- refusals -------------------------------------------------------------------------------------------
def test_a_completed_job_cannot_be_cancelled(stack: dict[str, Any], api: Api, admin: Api) -> None:
    job = create(api, register(admin, stack["agents"].url("/fast")))
    run_queues(stack["env"])
    assert job_of(api, job["id"])["status"] == "COMPLETED"
    refused = cancel(api, job["id"])
    assert refused.status == 409 and "COMPLETED" in refused.body["error"]["message"], refused.body
    assert job_of(api, job["id"])["status"] == "COMPLETED"


def test_a_rejected_job_cannot_be_cancelled(stack: dict[str, Any], api: Api, admin: Api) -> None:
    job = create(api, register(admin, stack["agents"].url("/fast"), "code-generation"), "code-generation")
    run_until(stack["env"], lambda: bool(pending_checkpoints(api, job["id"])))
    (checkpoint,) = pending_checkpoints(api, job["id"])
    assert admin.delete(f"/api/admin/agent-checkpoints/{checkpoint['id']}", {"reason": "insecure"}).status == 200
    refused = cancel(api, job["id"])
    assert refused.status == 409 and "REJECTED" in refused.body["error"]["message"], refused.body


def test_another_users_job_is_404_and_an_admin_cancels_any(stack: dict[str, Any], api: Api, admin: Api) -> None:
    job = create(api)
    bob = api.as_user("bob")
    assert cancel(bob, job["id"]).status == 404
    assert job_of(api, job["id"])["status"] == "PENDING"
    reply = cancel(admin, job["id"])
    assert_cancelled(api, job["id"], reply)
    entry = [log for log in api.get(f"/api/jobs/{job['id']}/logs").body["logs"] if log["status"] == "CANCELLED"][-1]
    assert entry["actor"] == "root-admin"


# --- a running attempt: the agent's late answer, the workflow, the checkpoints, the agent's cancelUrl ------
def _execute_in_background(env: dict[str, str], queue: str = "EXECUTE_QUEUE_URL") -> threading.Thread:
    """The execute consumer's delivery of the attempt's message, in its own thread (as Lambda would run it) while
    the test cancels. Step Functions sends a workflow's message from its own thread: wait for it to arrive."""

    def run() -> None:
        wait_until(lambda: deliver(env[queue], "execute_job") > 0, timeout=10)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    return worker


def test_a_late_answer_is_logged_and_never_completes_the_job(stack: dict[str, Any], api: Api, admin: Api) -> None:
    agents: AgentServer = stack["agents"]
    agent_id = register(admin, agents.url("/slow?seconds=1.5"), cancelUrl=agents.url("/fast?cancel=1"))
    job = create(api, agent_id)
    worker = _execute_in_background(stack["env"])
    assert wait_until(lambda: bool(agents.requests_to("/slow")), timeout=10)  # the agent is working
    assert_cancelled(api, job["id"], cancel(api, job["id"]))

    worker.join(timeout=20)  # the agent answers about a second after the cancel
    assert not worker.is_alive()
    run_queues(stack["env"])  # the validate message the execute step sent for the answer
    shown = job_of(api, job["id"])
    assert shown["status"] == "CANCELLED" and shown["result"] is None
    assert "AGENT_RESPONSE" in log_kinds(api, job["id"])  # the answer is kept in the log…
    assert log_kinds(api, job["id"])[-1] != "COMPLETED"  # …and changed nothing
    assert_stays_cancelled(api, admin, job["id"])

    (notice,) = agents.requests_to("/fast?cancel=1")
    assert notice.body == {"jobId": job["id"], "attempt": 1, "reason": "not needed any more"}
    assert notice.signature_ok is True and verify(SECRET, notice.headers, notice.raw_body)
    logged = [log for log in api.get(f"/api/jobs/{job['id']}/logs").body["logs"] if log["status"] == "AGENT_REQUEST"]
    assert logged[-1]["message"] == "cancel notice: the agent was told (HTTP 200)"


def test_an_agent_without_cancel_url_is_not_told_and_a_dead_cancel_url_never_blocks(
    stack: dict[str, Any], api: Api, admin: Api
) -> None:
    agents: AgentServer = stack["agents"]
    quiet = create(api, register(admin, agents.url("/fast")))
    assert_cancelled(api, quiet["id"], cancel(api, quiet["id"]))
    assert "AGENT_REQUEST" not in log_kinds(api, quiet["id"])

    hanging = create(api, register(admin, agents.url("/fast"), cancelUrl=agents.url("/hang")))
    assert_cancelled(api, hanging["id"], cancel(api, hanging["id"]))  # answered although the agent never does
    logged = [
        log for log in api.get(f"/api/jobs/{hanging['id']}/logs").body["logs"] if log["status"] == "AGENT_REQUEST"
    ]
    assert logged[-1]["message"] == "cancel notice: the agent was not told: ReadTimeout"


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/cancel", "ftp://example.com/cancel", "not a url"],
)
def test_cancel_url_is_ssrf_guarded_like_the_endpoint(stack: dict[str, Any], admin: Api, url: str) -> None:
    body = {"name": "a", "endpointUrl": stack["agents"].url("/fast"), "secret": SECRET, "cancelUrl": url}
    refused = admin.post("/api/admin/agents", body)
    assert refused.status == 400 and refused.body["error"]["field"] == "cancelUrl", refused.body
    agent_id = register(admin, stack["agents"].url("/fast"))
    updated = admin.put(f"/api/admin/agents/{agent_id}", {"cancelUrl": url})
    assert updated.status == 400 and updated.body["error"]["field"] == "cancelUrl", updated.body


def test_cancel_url_is_shown_to_admins_only(stack: dict[str, Any], api: Api, admin: Api) -> None:
    agent_id = register(admin, stack["agents"].url("/fast"), cancelUrl=stack["agents"].url("/fast?cancel=1"))
    listed = {a["id"]: a for a in admin.get("/api/admin/agents").body["agents"]}
    assert listed[agent_id]["cancelUrl"] == stack["agents"].url("/fast?cancel=1")
    seen = api.get(f"/api/agents/{agent_id}").body["agent"]
    assert "cancelUrl" not in seen and "endpointUrl" not in seen


def test_a_workflow_job_calling_its_agent_is_stopped_and_the_late_answer_ignored(
    stack: dict[str, Any], api: Api, admin: Api
) -> None:
    agents: AgentServer = stack["agents"]
    job = create(api, register(admin, agents.url("/slow?seconds=1.5"), "code-generation"), "code-generation")
    worker = _execute_in_background(stack["env"])
    assert wait_until(lambda: bool(agents.requests_to("/slow")), timeout=10)  # the agent is working
    assert_cancelled(api, job["id"], cancel(api, job["id"]))
    worker.join(timeout=20)  # the answer arrives and meets a cancelled job: it is logged, nothing moves on
    assert not worker.is_alive()
    run_queues(stack["env"])
    assert job_of(api, job["id"])["status"] == "CANCELLED"
    assert api.get(f"/api/jobs/{job['id']}/checkpoints").body["checkpoints"] == []  # no review was raised
    assert waits_of(job["id"]) == []  # nor a wait started


def test_a_job_at_a_checkpoint_is_cancelled_its_checkpoint_closed_and_its_execution_stopped(
    stack: dict[str, Any], api: Api, admin: Api
) -> None:
    job = create(api, register(admin, stack["agents"].url("/fast"), "code-generation"), "code-generation")
    run_until(stack["env"], lambda: bool(pending_checkpoints(api, job["id"])))
    (checkpoint,) = pending_checkpoints(api, job["id"])
    stopped: list[str] = []
    events = client("stepfunctions").meta.events
    record = lambda params, **_: stopped.append(params["executionArn"])  # noqa: E731
    events.register("before-parameter-build.sfn.StopExecution", record)
    try:
        assert_cancelled(api, job["id"], cancel(api, job["id"]))
    finally:
        events.unregister("before-parameter-build.sfn.StopExecution", record)
    assert stopped == [wait_arn(job["id"])]  # the checkpoint's own wait, by its name
    # AWS aborts it at once; moto's emulation accepts the stop but ignores it while a task waits on its token, so
    # there the checkpoint's own SendTaskFailure (JobCancelled) ends it: either way nothing waits any more
    assert wait_until(lambda: wait_status(job["id"]) in ("ABORTED", "FAILED"), timeout=5)
    closed = admin.get(f"/api/admin/agent-checkpoints/{checkpoint['id']}").body["checkpoint"]
    assert closed["status"] == "CANCELLED" and closed["decidedBy"] == "alice" and closed["decidedAt"]
    assert closed["cancelReason"] == "not needed any more" and closed["deliveredAt"]
    assert admin.get("/api/admin/agent-checkpoints").body["checkpoints"] == []  # out of the review queue
    late = admin.post(f"/api/admin/agent-checkpoints/{checkpoint['id']}")
    assert late.status == 409, late.body
    run_queues(stack["env"])
    assert_stays_cancelled(api, admin, job["id"])
