"""Where a job with checkpoints goes next (issue 13 item 4): its steps ride the queues, and at each checkpoint
its policy says whether a human wait starts, the judge runs, or the job completes."""

from __future__ import annotations

import pytest

from agent_jobs.domain.policies import CheckpointPolicy, NextStep, Step, policy_for

THREE = CheckpointPolicy(after_execute=("plan",), before_completion=("security", "final"))


def test_a_simple_task_goes_straight_through() -> None:
    policy = policy_for("simple-task")
    assert not policy.has_checkpoints
    assert policy.after_answer() == NextStep(Step.VALIDATE)
    assert policy.after_pass() == NextStep(Step.COMPLETE)


def test_code_generation_waits_once_after_the_judge() -> None:
    policy = policy_for("code-generation")
    assert policy.after_answer() == NextStep(Step.VALIDATE)  # no review before the judge
    assert policy.after_pass() == NextStep(Step.CHECKPOINT, "code-review")
    assert policy.after_approval("code-review") == NextStep(Step.COMPLETE)


def test_data_processing_reviews_the_output_then_the_result() -> None:
    policy = policy_for("data-processing")
    assert policy.after_answer() == NextStep(Step.CHECKPOINT, "output-review")
    assert policy.after_approval("output-review") == NextStep(Step.VALIDATE)
    assert policy.after_pass() == NextStep(Step.CHECKPOINT, "final-review")
    assert policy.after_approval("final-review") == NextStep(Step.COMPLETE)


@pytest.mark.parametrize(
    ("approved", "expected"),
    [
        ("plan", NextStep(Step.VALIDATE)),
        ("security", NextStep(Step.CHECKPOINT, "final")),
        ("final", NextStep(Step.COMPLETE)),
        ("gone", NextStep(Step.COMPLETE)),  # a stage the setting no longer names: the reviews are over
    ],
)
def test_each_approval_moves_to_the_next_stage_of_its_group(approved: str, expected: NextStep) -> None:
    assert THREE.after_approval(approved) == expected
