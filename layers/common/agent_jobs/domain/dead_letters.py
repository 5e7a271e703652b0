"""What a message that could not be processed means for its job: nothing is left running silently."""

from __future__ import annotations

from agent_jobs.domain.lifecycle import apply
from agent_jobs.domain.transitions import JobEvent
from agent_jobs.errors import Conflict
from agent_jobs.integrations import workflow
from agent_jobs.models.jobs import JobStatus
from agent_jobs.models.messages import StepMessage
from agent_jobs.observability import logger
from agent_jobs.services import Services

EVENT_BY_KIND = {
    "execute": JobEvent.FAIL,
    "validate": JobEvent.REQUIRE_RESUBMISSION,
    "assign": JobEvent.MATCHING_FAILED,
}


def settle_dead_letter(services: Services, message: StepMessage) -> None:
    """Moves the job out of the step that kept failing, with the reason in its log."""
    job = services.jobs.get(message.job_id)
    reason = f"{message.kind} step failed repeatedly; the message went to the dead-letter queue"
    if message.kind == "validate":
        reason = f"validation unavailable: {reason}"
    event = EVENT_BY_KIND.get(message.kind, JobEvent.FAIL)
    expected = JobStatus.PENDING if event == JobEvent.MATCHING_FAILED else JobStatus.IN_PROGRESS
    if (
        job is not None
        and job.status == expected
        and (event == JobEvent.MATCHING_FAILED or job.attempt == message.attempt)
    ):
        try:
            apply(services.jobs, job, event, reason, actor="dead-letter")
        except Conflict:
            logger.info("job moved on before its dead letter was handled", extra={"job_id": job.id})
    workflow.report_failure(message.task_token, "DeadLetter", reason)
