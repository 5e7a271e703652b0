"""The checkpoint workflow's definition file and the input of one execution."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent_jobs.domain.policies import CheckpointPolicy
    from agent_jobs.models.jobs import Job
    from agent_jobs.settings import Settings

DEFINITION_FILE = Path(__file__).with_name("job_with_checkpoints.asl.json")
VALIDATE_TIMEOUT_SECONDS = 15 * 60


def load_definition() -> str:
    return DEFINITION_FILE.read_text()


def execution_name(job_id: str, attempt: int) -> str:
    """Deterministic: a repeated start of the same attempt is refused by Step Functions, not run twice."""
    return f"{job_id}-{attempt}"


def execution_input(job: Job, policy: CheckpointPolicy, settings: Settings, execute_queue_url: str) -> dict[str, Any]:
    execute_timeout = int(settings.agent_max_timeout_seconds * (settings.agent_max_retries + 1)) + 300
    return {
        "jobId": job.id,
        "attempt": job.attempt,
        "jobType": job.job_type,
        "executeQueueUrl": execute_queue_url,
        "validateQueueUrl": settings.validate_queue_url,
        "checkpointQueueUrl": settings.checkpoint_queue_url,
        "executeTimeoutSeconds": execute_timeout,
        "validateTimeoutSeconds": VALIDATE_TIMEOUT_SECONDS,
        "checkpointTimeoutSeconds": settings.checkpoint_timeout_seconds,
        "afterExecute": [{"stage": stage} for stage in policy.after_execute],
        "beforeCompletion": [{"stage": stage} for stage in policy.before_completion],
    }
