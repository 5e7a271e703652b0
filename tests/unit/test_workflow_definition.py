"""The checkpoint wait machine: one short execution per human wait (issue 13 item 4), named so a repeated start is
refused, and what it sends."""

from __future__ import annotations

import json

from agent_jobs.models.jobs import Job
from agent_jobs.settings import Settings
from agent_jobs.workflow.definition import MAX_NAME, execution_arn, execution_name, load_definition, wait_input

JOB = Job(id="0" * 32, user_id="u", name="n", description="d", created_at="t", updated_at="t", attempt=2)


def test_the_wait_is_one_task_and_its_expiry_notice() -> None:
    definition = json.loads(load_definition())
    assert definition["StartAt"] == "AwaitDecision" and set(definition["States"]) == {"AwaitDecision", "ReportExpired"}
    wait = definition["States"]["AwaitDecision"]
    assert wait["Resource"].endswith("sqs:sendMessage.waitForTaskToken") and wait["End"] is True
    assert wait["Parameters"]["MessageBody"]["kind"] == "checkpoint"
    assert wait["Parameters"]["MessageBody"]["taskToken.$"] == "$$.Task.Token"
    (catch,) = wait["Catch"]
    assert set(catch["ErrorEquals"]) == {"States.Timeout", "States.HeartbeatTimeout"}  # moto reports the former
    expired = definition["States"][catch["Next"]]
    assert expired["Parameters"]["MessageBody"]["kind"] == "checkpoint-expired" and expired["End"] is True
    inputs = wait_input(JOB, "code-review", Settings(checkpoint_timeout_seconds=86400))
    assert inputs[wait["TimeoutSecondsPath"].removeprefix("$.")] == 86400  # 24 h by default, a setting
    assert {"jobId", "attempt", "stage", "checkpointQueueUrl"} <= set(inputs)


def test_the_name_is_the_checkpoint_and_deterministic() -> None:
    assert execution_name(JOB.id, 2, "code-review") == f"{JOB.id}-2-code-review"
    arn = execution_arn("arn:aws:states:us-east-1:1:stateMachine:m", JOB.id, 2, "code-review")
    assert arn == f"arn:aws:states:us-east-1:1:execution:m:{JOB.id}-2-code-review"


def test_a_stage_that_cannot_be_a_name_is_digested() -> None:
    for stage in ("x" * 80, "final review", "a/b"):
        name = execution_name(JOB.id, 2, stage)
        assert len(name) <= MAX_NAME and " " not in name and "/" not in name
        assert name == execution_name(JOB.id, 2, stage) != execution_name(JOB.id, 3, stage)
    assert execution_name(JOB.id, 2, "final review") != execution_name(JOB.id, 2, "final-review2")
