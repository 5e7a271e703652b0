"""``events_of``: which events one change makes, from stream images written by the table models themselves."""

from __future__ import annotations

from typing import Any

from agent_jobs.domain.event_stream import events_of
from agent_jobs.models.checkpoints import Checkpoint, CheckpointStatus
from agent_jobs.models.jobs import Job, JobStatus
from agent_jobs.repositories.records import to_record
from agent_jobs.repositories.tables import CheckpointRecord, JobRecord

T0 = "2026-01-01T00:00:00.000Z"


def job(**changes: Any) -> Job:
    base = Job(id="j1", user_id="alice", name="n", description="d", created_at=T0, updated_at=T0, version=1)
    return base.model_copy(update=changes)


def image(entity: Job | Checkpoint) -> dict[str, Any]:
    """The item as the stream carries it (DynamoDB JSON), version included."""
    record: Any = to_record(entity, JobRecord if isinstance(entity, Job) else CheckpointRecord)
    record.version = entity.version
    serialized: dict[str, Any] = record.serialize()
    return serialized


def kinds(old: Job | Checkpoint | None, new: Job | Checkpoint, table: str = "jobs_table") -> list[str]:
    return [event.type.value for event in events_of(image(old) if old else None, image(new), table)]


def test_insert_is_created() -> None:
    (event,) = events_of(None, image(job(input_data={"k": "v"})), "jobs_table")
    assert event.id == "j1:v1:job.created" and event.user_id == "alice"
    assert event.data.job["status"] == "PENDING"
    assert not {"inputData", "result", "agentInputs", "taskToken", "feedback"} & set(event.data.job)


def test_every_terminal_status_has_its_own_event() -> None:
    running = job(status=JobStatus.IN_PROGRESS, attempt=1)
    for status, kind in [
        (JobStatus.COMPLETED, "job.completed"),
        (JobStatus.FAILED, "job.failed"),
        (JobStatus.REJECTED, "job.rejected"),
        (JobStatus.RESUBMISSION_REQUIRED, "job.resubmission_required"),
        (JobStatus.CANCELLED, "job.cancelled"),
    ]:
        assert kinds(running, running.model_copy(update={"status": status, "version": 2})) == [
            "job.status_changed",
            kind,
        ]
    assert kinds(job(), job(status=JobStatus.ASSIGNED, version=2)) == ["job.status_changed"]


def test_a_new_attempt_is_a_transition() -> None:
    first = job(status=JobStatus.IN_PROGRESS, attempt=1, version=3)
    assert kinds(first, first.model_copy(update={"attempt": 2, "version": 4})) == ["job.status_changed"]


def test_writes_that_change_nothing_a_client_sees_make_no_event() -> None:
    running = job(status=JobStatus.IN_PROGRESS, attempt=1, version=3)
    claimed = running.model_copy(update={"claimed_at": T0, "deadline": T0, "dispatched_attempt": 1, "version": 4})
    assert kinds(running, claimed) == []
    assert events_of(image(running), None, "jobs_table") == []  # a delete


def test_progress_reports() -> None:
    running = job(status=JobStatus.IN_PROGRESS, attempt=1, version=3)
    report = {"attempt": 1, "progress": 0.5, "message": "half", "at": "2026-01-01T00:01:00.000Z"}
    reported = running.model_copy(update={"progress_report": report})  # a report moves no version
    (event,) = events_of(image(running), image(reported), "jobs_table")
    assert event.type.value == "job.progress" and event.data.job["progress"] == 0.5
    assert event.id == "j1:a1:2026-01-01T00:01:00.000Z:job.progress"
    later = reported.model_copy(update={"progress_report": {**report, "progress": 0.9, "at": T0[:-5] + "9.000Z"}})
    assert events_of(image(reported), image(later), "jobs_table")[0].id != event.id


def checkpoint(**changes: Any) -> Checkpoint:
    base = Checkpoint(
        id="c1",
        job_id="j1",
        user_id="alice",
        job_type="code-generation",
        stage="code-review",
        data={"files": ["secret output"]},
        task_token="token",
        expires_at=T0,
        created_at=T0,
        updated_at=T0,
        version=1,
    )
    return base.model_copy(update=changes)


def test_checkpoints() -> None:
    (raised,) = events_of(None, image(checkpoint()), "checkpoints_table")
    assert raised.type.value == "checkpoint.pending" and raised.id == "c1:v1:checkpoint.pending"
    assert raised.data.job == {"id": "j1", "userId": "alice", "jobType": "code-generation"}
    assert raised.data.checkpoint is not None
    assert "data" not in raised.data.checkpoint and "taskToken" not in raised.data.checkpoint
    for status in (CheckpointStatus.APPROVED, CheckpointStatus.REJECTED, CheckpointStatus.EXPIRED):
        decided = checkpoint(status=status, decided_by="root", version=2)
        assert kinds(checkpoint(), decided, "checkpoints_table") == ["checkpoint.decided"]
    approved = checkpoint(status=CheckpointStatus.APPROVED, version=2)
    delivered = approved.model_copy(update={"delivered_at": T0, "version": 3})
    assert kinds(approved, delivered, "checkpoints_table") == []
