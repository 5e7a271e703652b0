"""The checkpoint workflow's definition file and the input of one execution."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent_jobs.domain.policies import CheckpointPolicy
    from agent_jobs.models.jobs import Job
    from agent_jobs.settings import Settings

DEFINITION_FILE = Path(__file__).with_name("job_with_checkpoints.asl.json")
# A queue task's timeout runs from the moment Step Functions *sends* the message, so any shorter limit would
# count time spent queued (a backlog, a stopped worker) and fail healthy jobs. The execute and validate tasks
# therefore wait as long as their message can live on the queue (infra's QUEUE_RETENTION_DAYS): past that the
# message is gone and the step can never be answered. How long a *claimed* attempt may run is its lease,
# enforced by the sweeper with the step's task token (DESIGN.md §14).
QUEUE_TASK_TIMEOUT_SECONDS = 4 * 24 * 3600


def load_definition() -> str:
    return DEFINITION_FILE.read_text()


def execution_name(job_id: str, attempt: int) -> str:
    """Deterministic: a repeated start of the same attempt is refused by Step Functions, not run twice."""
    return f"{job_id}-{attempt}"


def execution_arn(state_machine_arn: str, job_id: str, attempt: int) -> str:
    """The ARN of the attempt's execution, from the machine's (Step Functions' documented ARN shape)."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + execution_name(job_id, attempt)


def execution_input(job: Job, policy: CheckpointPolicy, settings: Settings, execute_queue_url: str) -> dict[str, Any]:
    return {
        "jobId": job.id,
        "attempt": job.attempt,
        "jobType": job.job_type,
        "executeQueueUrl": execute_queue_url,
        "validateQueueUrl": settings.validate_queue_url,
        "checkpointQueueUrl": settings.checkpoint_queue_url,
        "queueTaskTimeoutSeconds": QUEUE_TASK_TIMEOUT_SECONDS,
        "checkpointTimeoutSeconds": settings.checkpoint_timeout_seconds,
        "afterExecute": [{"stage": stage} for stage in policy.after_execute],
        "beforeCompletion": [{"stage": stage} for stage in policy.before_completion],
    }
