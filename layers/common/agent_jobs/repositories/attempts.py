"""The writes of an async attempt (DESIGN.md §14): parked after the agent's 202, moved by its progress reports,
answered once by its completion callback.

Each is conditional on the attempt being the job's current, claimed, unanswered one, so a stale or repeated
callback changes nothing. Parking and progress reports do not bump the job's ``version``: they are not
transitions, and an owner's cancel or the sweeper must not lose a race to a heartbeat. The answer does.
"""

from __future__ import annotations

from typing import Any

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from agent_jobs.models.jobs import Job, JobLog, JobStatus
from agent_jobs.repositories import job_history
from agent_jobs.repositories.tables import JobRecord
from agent_jobs.repositories.transactions import conditional

NOT_OPEN = "the attempt is not waiting for its agent any more"


def _open_attempt(job: Job) -> Condition:
    """The attempt is the job's current one, claimed by the execute step, and has no answer yet."""
    return (
        (JobRecord.status == JobStatus.IN_PROGRESS.value)
        & (JobRecord.attempt == job.attempt)
        & (JobRecord.dispatched_attempt == job.attempt)
        & (JobRecord.answered_attempt < job.attempt)
    )


class AttemptRepository:
    def park(self, job: Job, *, deadline: str) -> Job:
        """The agent answered 202: the job waits for its callback until ``deadline`` (its lease). Raises
        :class:`~agent_jobs.errors.Conflict` when the callback already answered (a fast agent) or the job moved on."""
        actions = [JobRecord.waiting_attempt.set(job.attempt), JobRecord.deadline.set(deadline)]
        with conditional(NOT_OPEN):
            JobRecord._get_connection().update_item(job.id, actions=actions, condition=_open_attempt(job))
        return job.model_copy(update={"waiting_attempt": job.attempt, "deadline": deadline})

    def report_progress(self, job: Job, report: dict[str, Any], *, deadline: str | None) -> Job:
        """Stores the attempt's latest progress report and, for an agent with a heartbeat, moves its lease."""
        actions: list[Action] = [JobRecord.progress_report.set(report)]
        if deadline is not None:
            actions.append(JobRecord.deadline.set(deadline))
        with conditional(NOT_OPEN):
            JobRecord._get_connection().update_item(job.id, actions=actions, condition=_open_attempt(job))
        moved = {"deadline": deadline} if deadline is not None else {}
        return job.model_copy(update={"progress_report": report, **moved})

    def record_answer(self, job: Job, report: dict[str, Any], log: JobLog) -> Job:
        """The completion callback's output, once: the attempt is marked answered with its AGENT_RESPONSE entry
        in one conditional update (the entry's detail put first). A second completion finds the attempt
        answered (Conflict)."""
        record = JobRecord(job.id)
        record.version = job.version
        actions: list[Action] = [JobRecord.answered_attempt.set(job.attempt), JobRecord.progress_report.set(report)]
        actions += job_history.append_actions(job, [log])
        with conditional(NOT_OPEN):
            record.update(actions=actions, condition=_open_attempt(job), add_version_condition=False)
        return job.model_copy(
            update={"answered_attempt": job.attempt, "progress_report": report, "version": job.version + 1}
        )
