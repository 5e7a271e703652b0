"""Where each job type stops for human approval (seed 004). One table; new types add a line here
or come from the ``JOB_TYPE_CHECKPOINTS`` setting (JSON) without code changes elsewhere."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache


@dataclass(frozen=True)
class CheckpointPolicy:
    after_execute: tuple[str, ...] = field(default=())  # review the agent's output/plan before judging
    before_completion: tuple[str, ...] = field(default=())  # final review before COMPLETED

    @property
    def needs_workflow(self) -> bool:
        return bool(self.after_execute or self.before_completion)

    @property
    def stages(self) -> tuple[str, ...]:
        return self.after_execute + self.before_completion


DEFAULT_POLICIES: dict[str, CheckpointPolicy] = {
    "simple-task": CheckpointPolicy(),
    "code-generation": CheckpointPolicy(before_completion=("code-review",)),
    "data-processing": CheckpointPolicy(after_execute=("output-review",), before_completion=("final-review",)),
}


@lru_cache(maxsize=1)
def _policies() -> dict[str, CheckpointPolicy]:
    policies = dict(DEFAULT_POLICIES)
    extra = json.loads(os.environ.get("JOB_TYPE_CHECKPOINTS") or "{}")
    for job_type, stages in extra.items():
        policies[job_type] = CheckpointPolicy(
            after_execute=tuple(stages.get("afterExecute", ())),
            before_completion=tuple(stages.get("beforeCompletion", ())),
        )
    return policies


def policy_for(job_type: str) -> CheckpointPolicy:
    """The job type's checkpoints; an unknown type has none."""
    return _policies().get(job_type, CheckpointPolicy())
