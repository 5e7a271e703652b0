"""The workflow's queue tasks wait exactly as long as the queues keep a message (one rule, two places)."""

from __future__ import annotations

from agent_jobs.workflow.definition import QUEUE_TASK_TIMEOUT_SECONDS
from infra import constants


def test_queue_task_timeout_is_the_queue_retention() -> None:
    assert constants.QUEUE_RETENTION_DAYS * 24 * 3600 == QUEUE_TASK_TIMEOUT_SECONDS
