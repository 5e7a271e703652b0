"""The checkpoint workflow's queue tasks: their timeouts never count time spent queued (issue 12 item 1)."""

from __future__ import annotations

import json

from agent_jobs.domain.policies import policy_for
from agent_jobs.models.jobs import Job
from agent_jobs.settings import Settings
from agent_jobs.workflow.definition import execution_input, load_definition

FOUR_DAYS = 4 * 24 * 3600  # how long the queues keep a message (infra's QUEUE_RETENTION_DAYS)


def test_execute_and_validate_wait_as_long_as_their_message_can_live() -> None:
    """A Step Functions task's timeout starts when the message is *sent*: with the old 11-minute Execute
    timeout, stopping the worker for 12 minutes failed every queued workflow job."""
    definition = json.loads(load_definition())
    job = Job(id="j", user_id="u", name="n", description="d", created_at="t", updated_at="t", attempt=1)
    inputs = execution_input(job, policy_for("data-processing"), Settings(), "https://queue")
    for name in ("Execute", "Validate"):
        state = definition["States"][name]
        assert state["Resource"].endswith("sqs:sendMessage.waitForTaskToken")
        assert "TimeoutSeconds" not in state and "HeartbeatSeconds" not in state
        assert inputs[state["TimeoutSecondsPath"].removeprefix("$.")] >= FOUR_DAYS
