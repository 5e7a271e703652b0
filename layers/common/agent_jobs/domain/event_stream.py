"""Which job events (DESIGN.md §15) one write makes, decided from the write itself: the old and new images of a
jobs or checkpoints stream record. Pure: no I/O, the same record always gives the same events.

- a job inserted → ``job.created``;
- a job whose status changed (or that started a new attempt) → ``job.status_changed``, plus ``job.completed`` / ``job.failed`` /
  ``job.rejected`` / ``job.resubmission_required`` / ``job.cancelled`` when it entered that status;
- a job whose progress report changed, status unchanged → ``job.progress``;
- a checkpoint inserted PENDING → ``checkpoint.pending``; a checkpoint leaving PENDING (approved, rejected,
  changes requested, expired, cancelled) → ``checkpoint.decided``.

Every other write (a claim, a lease, a re-send count, a delivery mark) tells a client nothing: no event.
An event's id is its item's id, the item's version after the write and the event's type (a progress report,
which moves no version: the job's id, the attempt and the report's time), and its time is the write's
``updatedAt``: a stream record delivered twice makes the very same events, so consumers de-duplicate.
"""

from __future__ import annotations

from typing import Any

from agent_jobs.models.checkpoints import Checkpoint, CheckpointStatus
from agent_jobs.models.job_events import Event, EventData, EventType
from agent_jobs.models.jobs import Job, JobStatus, JobSummary
from agent_jobs.repositories.stream_images import Image, checkpoint_of, job_of

JOBS = "jobs_table"
CHECKPOINTS = "checkpoints_table"
ENTERED: dict[JobStatus, EventType] = {
    JobStatus.COMPLETED: EventType.JOB_COMPLETED,
    JobStatus.FAILED: EventType.JOB_FAILED,
    JobStatus.REJECTED: EventType.JOB_REJECTED,
    JobStatus.RESUBMISSION_REQUIRED: EventType.JOB_RESUBMISSION_REQUIRED,
    JobStatus.CANCELLED: EventType.JOB_CANCELLED,
}
CHECKPOINT_FIELDS_LEFT_OUT = {"data"}  # what the agent produced: a payload, never in an event


def events_of(old_image: Image | None, new_image: Image | None, table: str) -> list[Event]:
    """The events of one change of ``table`` (a Settings field: ``jobs_table`` or ``checkpoints_table``)."""
    if new_image is None:  # a deleted item (no path deletes jobs or checkpoints): nothing happened to tell
        return []
    if table == JOBS:
        return _job_events(job_of(old_image) if old_image else None, job_of(new_image))
    if table == CHECKPOINTS:
        return _checkpoint_events(checkpoint_of(old_image) if old_image else None, checkpoint_of(new_image))
    raise ValueError(f"no events come from {table}")


def job_summary(job: Job) -> dict[str, Any]:
    """What an event tells of a job: the list view plus its version and progress — never its input, result,
    the agent's inputs or output, feedback texts, or the workflow's task token."""
    summary = JobSummary.model_validate({name: getattr(job, name) for name in JobSummary.model_fields}).to_api()
    progress = job.current_progress
    summary.update(
        version=job.version,
        waitingFor=job.waiting_for,
        progress=progress.get("progress"),
        progressMessage=progress.get("message"),
    )
    return summary


def _event(kind: EventType, change: str, at: str, user_id: str, data: EventData) -> Event:
    return Event(id=f"{change}:{kind.value}", type=kind, created_at=at, user_id=user_id, data=data)


def _job_events(old: Job | None, new: Job) -> list[Event]:
    data = EventData(job=job_summary(new), previous_status=old.status.value if old else None)

    def event(kind: EventType) -> Event:
        return _event(kind, f"{new.id}:v{new.version}", new.updated_at, new.user_id, data)

    if old is None:
        return [event(EventType.JOB_CREATED)]
    if old.status != new.status or old.attempt != new.attempt:  # a new attempt re-enters its status: a transition
        entered = ENTERED.get(new.status)
        return [event(EventType.JOB_STATUS_CHANGED), *([event(entered)] if entered else [])]
    progress = new.current_progress
    if old.progress_report != new.progress_report and progress:
        # a progress report does not move the job's version: the report (its attempt and time) names the change
        at = str(progress.get("at") or new.updated_at)
        change = f"{new.id}:a{new.attempt}:{at}"
        return [_event(EventType.JOB_PROGRESS, change, at, new.user_id, data)]
    return []


def _checkpoint_events(old: Checkpoint | None, new: Checkpoint) -> list[Event]:
    if old is None:
        kind = EventType.CHECKPOINT_PENDING if new.status == CheckpointStatus.PENDING else None
    else:
        decided = old.status == CheckpointStatus.PENDING != new.status
        kind = EventType.CHECKPOINT_DECIDED if decided else None
    if kind is None:
        return []
    # the checkpoint's item holds the job's id, owner and type, not the rest of it: the stream has no job image
    job = {"id": new.job_id, "userId": new.user_id, "jobType": new.job_type}
    checkpoint = new.model_dump(mode="json", by_alias=True, exclude=CHECKPOINT_FIELDS_LEFT_OUT)
    data = EventData(job=job, checkpoint=checkpoint, previous_status=old.status.value if old else None)
    return [_event(kind, f"{new.id}:v{new.version}", new.updated_at, new.user_id, data)]
