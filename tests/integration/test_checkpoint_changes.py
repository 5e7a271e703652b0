"""Checkpoint decisions carry data (issue 14 item 4, DESIGN.md §14): approve with a comment, reject with a
reason, and request changes — the job goes back to its agent as attempt+1 with the reviewer's feedback, in a
Step Functions execution of its own. Every decision records who, when and its text. On moto with real Step
Functions execution, a real local agent and judge."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agent_jobs.services import services
from tests.fixtures.checkpoint_waits import wait_status
from tests.integration.conftest import Api, run_until
from tests.integration.test_checkpoint_decisions import StepFunctionsFaults, _expire_now, faults
from tests.integration.test_checkpoints import create, history, pending_checkpoints, register, stack, status_of

__all__ = ["faults", "stack"]  # the fixtures
FEEDBACK = "Validate the password length before hashing it"


def _at_checkpoint(stack: dict[str, Any], api: Api, admin: Api, **extra: Any) -> tuple[str, dict[str, Any]]:
    job_id = create(api, register(admin, stack["agents"].url("/fast"), "code-generation"), "code-generation", **extra)
    run_until(stack["env"], lambda: bool(pending_checkpoints(api, job_id)))
    (checkpoint,) = pending_checkpoints(api, job_id)
    return job_id, checkpoint


def _path(checkpoint: dict[str, Any], action: str = "") -> str:
    return f"/api/admin/agent-checkpoints/{checkpoint['id']}" + (f"/{action}" if action else "")


def _job(api: Api, job_id: str) -> dict[str, Any]:
    return dict(api.get(f"/api/jobs/{job_id}").body["job"])


def _checkpoint_logs(api: Api, job_id: str) -> list[dict[str, Any]]:
    return [log for log in api.get(f"/api/jobs/{job_id}/logs").body["logs"] if log["status"] == "CHECKPOINT"]


def test_approve_records_who_when_and_the_comment(stack: dict[str, Any], api: Api, admin: Api) -> None:
    job_id, checkpoint = _at_checkpoint(stack, api, admin)
    approved = admin.post(_path(checkpoint), {"comment": "Looks good; ship it"})
    assert approved.status == 200, approved.body
    shown = approved.body["checkpoint"]
    assert shown["status"] == "APPROVED" and shown["comment"] == "Looks good; ship it"
    assert shown["decidedBy"] == shown["approvedBy"] == "root-admin" and shown["decidedAt"] == shown["approvedAt"]
    assert _checkpoint_logs(api, job_id)[-1]["message"] == "checkpoint code-review approved: Looks good; ship it"
    run_until(stack["env"], lambda: status_of(api, job_id) == "COMPLETED")


def test_approve_without_a_body_still_works(stack: dict[str, Any], api: Api, admin: Api) -> None:
    job_id, checkpoint = _at_checkpoint(stack, api, admin)
    approved = admin.post(_path(checkpoint))
    assert approved.status == 200 and approved.body["checkpoint"]["comment"] is None, approved.body
    run_until(stack["env"], lambda: status_of(api, job_id) == "COMPLETED")


def test_reject_records_who_when_and_the_reason(stack: dict[str, Any], api: Api, admin: Api) -> None:
    job_id, checkpoint = _at_checkpoint(stack, api, admin)
    rejected = admin.delete(_path(checkpoint), {"reason": "Stores passwords in plain text"})
    assert rejected.status == 200, rejected.body
    shown = rejected.body["checkpoint"]
    assert shown["status"] == "REJECTED" and shown["rejectionReason"] == "Stores passwords in plain text"
    assert shown["decidedBy"] == shown["rejectedBy"] == "root-admin" and shown["decidedAt"]
    assert status_of(api, job_id) == "REJECTED"


def test_request_changes_runs_the_agent_again_with_the_feedback(stack: dict[str, Any], api: Api, admin: Api) -> None:
    agents = stack["agents"]
    job_id, checkpoint = _at_checkpoint(stack, api, admin)
    asked = admin.post(_path(checkpoint, "request-changes"), {"feedback": FEEDBACK})
    assert asked.status == 200, asked.body
    shown = asked.body["checkpoint"]
    assert shown["status"] == "CHANGES_REQUESTED" and shown["feedback"] == FEEDBACK
    assert shown["decidedBy"] == "root-admin" and shown["decidedAt"] and shown["deliveredAt"]
    job = _job(api, job_id)
    assert (job["status"], job["attempt"], job["feedback"]) == ("IN_PROGRESS", 2, FEEDBACK)  # not REJECTED

    # attempt 1's wait ended as "changes requested"; attempt 2 ran through the queues and waits in its own
    run_until(stack["env"], lambda: len(pending_checkpoints(api, job_id)) == 1 and len(agents.requests) == 2)
    run_until(stack["env"], lambda: wait_status(job_id, 1) == "FAILED")
    first, second = (request.body for request in agents.requests)
    assert (first["attempt"], first["feedback"]) == (1, None)
    assert (second["attempt"], second["feedback"]) == (2, FEEDBACK)  # the agent gets the reviewer's words (§5)
    (again,) = pending_checkpoints(api, job_id)
    assert again["attempt"] == 2 and again["id"] != checkpoint["id"]
    messages = [log["message"] for log in api.get(f"/api/jobs/{job_id}/logs").body["logs"]]
    assert f"checkpoint code-review: changes requested: {FEEDBACK}" in messages
    assert f"changes requested at checkpoint code-review, running attempt 2: {FEEDBACK}" in messages
    assert admin.post(_path(again), {"comment": "better"}).status == 200
    run_until(stack["env"], lambda: status_of(api, job_id) == "COMPLETED")
    run_until(stack["env"], lambda: wait_status(job_id, 2) == "SUCCEEDED")


def test_a_repeated_request_for_changes_is_applied_once(stack: dict[str, Any], api: Api, admin: Api) -> None:
    job_id, checkpoint = _at_checkpoint(stack, api, admin)
    assert admin.post(_path(checkpoint, "request-changes"), {"feedback": FEEDBACK}).status == 200
    again = admin.post(_path(checkpoint, "request-changes"), {"feedback": FEEDBACK})
    assert again.status == 200, again.body  # the same decision again: 200, nothing moves twice
    assert _job(api, job_id)["attempt"] == 2
    assert admin.post(_path(checkpoint)).status == 409  # a different decision is refused
    assert admin.delete(_path(checkpoint), {"reason": "no"}).status == 409


def test_request_changes_at_the_last_attempt_is_409(stack: dict[str, Any], api: Api, admin: Api) -> None:
    job_id, checkpoint = _at_checkpoint(stack, api, admin, maxAttempts=1)
    refused = admin.post(_path(checkpoint, "request-changes"), {"feedback": FEEDBACK})
    assert refused.status == 409, refused.body
    assert "attempt 1 of its maxAttempts 1" in refused.body["error"]["message"]
    assert "approve or reject" in refused.body["error"]["message"]
    assert admin.get(_path(checkpoint)).body["checkpoint"]["status"] == "PENDING"  # still decidable
    assert (_job(api, job_id)["attempt"], status_of(api, job_id)) == (1, "IN_PROGRESS")


@pytest.mark.parametrize("status", ["approved", "rejected"])
def test_request_changes_after_another_decision_is_409(
    stack: dict[str, Any], api: Api, admin: Api, status: str
) -> None:
    job_id, checkpoint = _at_checkpoint(stack, api, admin)
    decided = (
        admin.post(_path(checkpoint)) if status == "approved" else admin.delete(_path(checkpoint), {"reason": "x"})
    )
    assert decided.status == 200
    refused = admin.post(_path(checkpoint, "request-changes"), {"feedback": FEEDBACK})
    assert refused.status == 409, refused.body
    assert _job(api, job_id)["attempt"] == 1


def test_request_changes_after_expires_at_is_409(stack: dict[str, Any], api: Api, admin: Api) -> None:
    job_id, checkpoint = _at_checkpoint(stack, api, admin)
    _expire_now(checkpoint["id"])
    late = admin.post(_path(checkpoint, "request-changes"), {"feedback": FEEDBACK})
    assert late.status == 409 and "expired" in late.body["error"]["message"], late.body
    assert admin.get(_path(checkpoint)).body["checkpoint"]["status"] == "EXPIRED"
    assert status_of(api, job_id) == "REJECTED"


def test_only_admins_decide(stack: dict[str, Any], api: Api, admin: Api) -> None:
    _, checkpoint = _at_checkpoint(stack, api, admin)
    assert api.post(_path(checkpoint, "request-changes"), {"feedback": FEEDBACK}).status == 403
    assert api.post(_path(checkpoint), {"comment": "mine"}).status == 403
    assert (
        admin.post("/api/admin/agent-checkpoints/no-such-checkpoint/request-changes", {"feedback": "x"}).status == 404
    )
    assert admin.get(_path(checkpoint)).body["checkpoint"]["status"] == "PENDING"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "feedback"),
        ({"feedback": ""}, "feedback"),
        ({"feedback": " \n "}, "feedback"),
        ({"feedback": "x" * 4001}, "feedback"),
    ],
)
def test_bad_feedback_is_400(stack: dict[str, Any], api: Api, admin: Api, body: dict[str, Any], field: str) -> None:
    _, checkpoint = _at_checkpoint(stack, api, admin)
    refused = admin.post(_path(checkpoint, "request-changes"), body)
    assert refused.status == 400 and refused.body["error"]["field"] == field, refused.body


def test_a_comment_over_the_limit_is_400(stack: dict[str, Any], api: Api, admin: Api) -> None:
    _, checkpoint = _at_checkpoint(stack, api, admin)
    refused = admin.post(_path(checkpoint), {"comment": "x" * 4001})
    assert refused.status == 400 and refused.body["error"]["field"] == "comment", refused.body
    assert admin.get(_path(checkpoint)).body["checkpoint"]["status"] == "PENDING"


def test_a_throttled_request_for_changes_is_kept_and_the_sweeper_delivers_it(
    stack: dict[str, Any], api: Api, admin: Api, faults: StepFunctionsFaults
) -> None:
    from agent_jobs.domain.sweeper import sweep

    job_id, checkpoint = _at_checkpoint(stack, api, admin)
    faults.fail_next(100)
    asked = admin.post(_path(checkpoint, "request-changes"), {"feedback": FEEDBACK})
    assert asked.status == 200 and asked.body["checkpoint"]["deliveredAt"] is None, asked.body
    assert _job(api, job_id)["attempt"] == 2  # the next attempt runs whatever attempt 1's execution was told
    assert history(job_id, 1)[-1] == "AwaitDecision"

    faults.fail_next(0)
    sweep(services(), datetime.now(UTC), {})
    assert admin.get(_path(checkpoint)).body["checkpoint"]["deliveredAt"]
    run_until(stack["env"], lambda: wait_status(job_id, 1) == "FAILED", timeout=60)  # a busy machine
    run_until(stack["env"], lambda: bool(pending_checkpoints(api, job_id)), timeout=60)
    assert pending_checkpoints(api, job_id)[0]["attempt"] == 2
