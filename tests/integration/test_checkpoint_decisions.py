"""Issue 12 items 9 and 15: a checkpoint decision is never lost when Step Functions throttles or fails
(it stays "decided, not delivered" until a retry of the request or the sweeper delivers it), a repeated
identical decision answers 200, and nothing is decided after ``expiresAt``.

Step Functions faults are injected at botocore's ``before-call`` hook of the platform's own client: the
real code path runs, moto's Step Functions runs the real workflow, only the chosen calls fail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders

from agent_jobs.integrations.aws import client
from agent_jobs.repositories.tables import CheckpointRecord
from agent_jobs.services import services
from tests.fixtures.checkpoint_waits import wait_status
from tests.integration.conftest import Api, run_until
from tests.integration.test_checkpoints import create, history, pending_checkpoints, register, stack, status_of

__all__ = ["stack"]  # the fixture, shared with test_checkpoints


class StepFunctionsFaults:
    """Makes the next ``failures`` SendTaskSuccess/SendTaskFailure calls answer 503 ThrottlingException."""

    def __init__(self) -> None:
        self.failures = 0
        self.calls = 0
        self._events = client("stepfunctions").meta.events
        for operation in ("SendTaskSuccess", "SendTaskFailure"):
            self._events.register(f"before-call.sfn.{operation}", self._answer)

    def fail_next(self, failures: int) -> None:
        self.failures, self.calls = failures, 0

    def _answer(self, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        self.calls += 1
        if self.failures <= 0:
            return None  # the real call (moto's Step Functions)
        self.failures -= 1
        error = {"Code": "ThrottlingException", "Message": "Rate exceeded"}
        return AWSResponse("https://states", 503, HTTPHeaders(), None), {
            "Error": error,
            "ResponseMetadata": {"HTTPStatusCode": 503},
        }

    def close(self) -> None:
        for operation in ("SendTaskSuccess", "SendTaskFailure"):
            self._events.unregister(f"before-call.sfn.{operation}", self._answer)


@pytest.fixture
def faults(stack: dict[str, Any]) -> Iterator[StepFunctionsFaults]:
    injected = StepFunctionsFaults()
    yield injected
    injected.close()


def _waiting_checkpoint(stack: dict[str, Any], api: Api, admin: Api) -> tuple[str, dict[str, Any]]:
    job_type = "code-generation"
    job_id = create(api, register(admin, stack["agents"].url("/fast"), job_type), job_type)
    run_until(stack["env"], lambda: bool(pending_checkpoints(api, job_id)))
    (checkpoint,) = pending_checkpoints(api, job_id)
    return job_id, checkpoint


def test_a_throttled_approval_is_kept_and_a_retry_delivers_it(
    stack: dict[str, Any], api: Api, admin: Api, faults: StepFunctionsFaults
) -> None:
    job_id, checkpoint = _waiting_checkpoint(stack, api, admin)
    path = f"/api/admin/agent-checkpoints/{checkpoint['id']}"
    faults.fail_next(100)  # Step Functions refuses every try of this request

    first = admin.post(path)
    assert first.status == 200, first.body
    assert first.body["checkpoint"]["status"] == "APPROVED" and first.body["checkpoint"]["deliveredAt"] is None
    assert faults.calls == 4  # the callback was tried again before giving up
    assert wait_status(job_id) == "RUNNING" and status_of(api, job_id) == "IN_PROGRESS"  # moves on once delivered

    faults.fail_next(0)  # Step Functions is back: the same decision again delivers it, 200 (not 409)
    again = admin.post(path)
    assert again.status == 200, again.body
    assert again.body["checkpoint"]["deliveredAt"] and again.body["checkpoint"]["approvedBy"] == "root-admin"
    run_until(stack["env"], lambda: status_of(api, job_id) == "COMPLETED")
    assert admin.post(path).status == 200  # and once more: still the same decision, nothing sent twice
    assert admin.delete(path, {"reason": "changed my mind"}).status == 409  # a different decision is refused


def test_a_short_throttle_is_retried_within_the_request(
    stack: dict[str, Any], api: Api, admin: Api, faults: StepFunctionsFaults
) -> None:
    job_id, checkpoint = _waiting_checkpoint(stack, api, admin)
    faults.fail_next(2)
    approved = admin.post(f"/api/admin/agent-checkpoints/{checkpoint['id']}")
    assert approved.status == 200, approved.body
    assert approved.body["checkpoint"]["deliveredAt"] and faults.calls == 3
    run_until(stack["env"], lambda: status_of(api, job_id) == "COMPLETED")


def test_the_sweeper_delivers_what_a_request_could_not(
    stack: dict[str, Any], api: Api, admin: Api, faults: StepFunctionsFaults
) -> None:
    from agent_jobs.domain.sweeper import sweep

    job_id, checkpoint = _waiting_checkpoint(stack, api, admin)
    path = f"/api/admin/agent-checkpoints/{checkpoint['id']}"
    faults.fail_next(100)
    rejected = admin.delete(path, {"reason": "Code doesn't meet security standards"})
    assert rejected.status == 200 and rejected.body["checkpoint"]["deliveredAt"] is None
    assert status_of(api, job_id) == "REJECTED"
    assert history(job_id)[-1] == "AwaitDecision"  # the workflow still waits for the decision

    faults.fail_next(0)
    sweep(services(), datetime.now(UTC), {})
    assert admin.get(path).body["checkpoint"]["deliveredAt"]
    run_until(stack["env"], lambda: wait_status(job_id) == "FAILED")
    assert services().checkpoints.undelivered(10) == []


def _expire_now(checkpoint_id: str) -> None:
    """Moves ``expiresAt`` into the past, as the clock would (the workflow's own timer has not fired yet)."""
    record = CheckpointRecord.get(checkpoint_id)
    record.update(actions=[CheckpointRecord.expires_at.set("2000-01-01T00:00:00.000Z")])


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_no_decision_after_expires_at(stack: dict[str, Any], api: Api, admin: Api, decision: str) -> None:
    job_id, checkpoint = _waiting_checkpoint(stack, api, admin)
    path = f"/api/admin/agent-checkpoints/{checkpoint['id']}"
    _expire_now(checkpoint["id"])
    late = admin.post(path) if decision == "approve" else admin.delete(path, {"reason": "too late"})
    assert late.status == 409, late.body
    assert "expired" in late.body["error"]["message"]
    shown = admin.get(path).body["checkpoint"]
    assert shown["status"] == "EXPIRED" and shown["approvedBy"] is None and shown["deliveredAt"]
    assert status_of(api, job_id) == "REJECTED"
    run_until(stack["env"], lambda: wait_status(job_id) == "FAILED")
