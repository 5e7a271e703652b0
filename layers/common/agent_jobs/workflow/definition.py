"""The checkpoint wait's definition file, and the name and input of one wait's execution.

A job whose type has checkpoints runs its execute and validate steps on the queues like any job; each human
wait is one short Standard execution of this machine (DESIGN.md §3, seed 004)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent_jobs.models.jobs import Job
    from agent_jobs.settings import Settings

DEFINITION_FILE = Path(__file__).with_name("checkpoint_wait.asl.json")
MAX_NAME = 80  # Step Functions' limit on an execution name
_NAME_OK = re.compile(r"^[A-Za-z0-9_.-]+$")


def load_definition() -> str:
    return DEFINITION_FILE.read_text()


def execution_name(job_id: str, attempt: int, stage: str) -> str:
    """Deterministic, so a repeated start of the same wait is refused (ExecutionAlreadyExists), never run twice.
    The checkpoint's own id when Step Functions accepts it as a name; a stage name that does not fit (too
    long, characters a name may not hold) is replaced by its digest."""
    name = f"{job_id}-{attempt}-{stage}"
    if len(name) <= MAX_NAME and _NAME_OK.match(name):
        return name
    digest = hashlib.sha256(stage.encode()).hexdigest()[:16]
    return f"{job_id[: MAX_NAME - 30]}-{attempt}-{digest}"


def execution_arn(state_machine_arn: str, job_id: str, attempt: int, stage: str) -> str:
    """The ARN of the wait's execution, from the machine's (Step Functions' documented ARN shape)."""
    machine = state_machine_arn.replace(":stateMachine:", ":execution:", 1)
    return f"{machine}:{execution_name(job_id, attempt, stage)}"


def wait_input(job: Job, stage: str, settings: Settings) -> dict[str, Any]:
    return {
        "jobId": job.id,
        "attempt": job.attempt,
        "stage": stage,
        "checkpointQueueUrl": settings.checkpoint_queue_url,
        "checkpointTimeoutSeconds": settings.checkpoint_timeout_seconds,
    }
