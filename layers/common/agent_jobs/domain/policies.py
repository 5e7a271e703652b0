"""Per job type: where it stops for human approval (seed 004), and which deterministic checks its agent's
output must pass before the LLM judge is asked (DESIGN.md §18). Two tables; new types add a line here or
come from the ``JOB_TYPE_CHECKPOINTS`` / ``JOB_TYPE_OUTPUT_CHECKS`` settings (JSON) without code changes."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any


@dataclass(frozen=True)
class CheckpointPolicy:
    after_execute: tuple[str, ...] = field(default=())  # review the agent's output/plan before judging
    before_completion: tuple[str, ...] = field(default=())  # final review before COMPLETED

    @property
    def has_checkpoints(self) -> bool:
        return bool(self.after_execute or self.before_completion)

    @property
    def stages(self) -> tuple[str, ...]:
        return self.after_execute + self.before_completion

    def after_answer(self) -> NextStep:
        """The agent answered: the first review of its output, else the judge."""
        return _first(self.after_execute, Step.VALIDATE)

    def after_pass(self) -> NextStep:
        """The judge passed the output: the first review before completion, else COMPLETED."""
        return _first(self.before_completion, Step.COMPLETE)

    def after_approval(self, stage: str) -> NextStep:
        """``stage`` was approved: the next stage of its group, else what follows the group. A stage the policy
        no longer names (the setting changed while the job waited) ends the job's reviews: COMPLETED."""
        for stages, then in ((self.after_execute, Step.VALIDATE), (self.before_completion, Step.COMPLETE)):
            if stage in stages:
                return _first(stages[stages.index(stage) + 1 :], then)
        return NextStep(Step.COMPLETE)


class Step(StrEnum):
    CHECKPOINT = "checkpoint"  # wait for a human decision at ``stage``
    VALIDATE = "validate"  # ask the judge
    COMPLETE = "complete"  # the job is COMPLETED with the agent's output


@dataclass(frozen=True)
class NextStep:
    step: Step
    stage: str | None = None


def _first(stages: tuple[str, ...], otherwise: Step) -> NextStep:
    return NextStep(Step.CHECKPOINT, stages[0]) if stages else NextStep(otherwise)


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


# --- deterministic output checks ---------------------------------------------------------------------


@dataclass(frozen=True)
class OutputRules:
    """What an agent's output must be before any token is spent on it (run by ``domain/output_checks.py``).

    ``must_match``, ``must_contain`` and ``must_not_contain`` look at the output's text: every string in
    it (keys and values), one per line; ``must_contain``/``must_not_contain`` ignore case."""

    non_empty: bool = True  # null, "", {} and [] are no answer
    reject_error_key: bool = True  # a top-level "error" key is the agent saying it failed
    required_keys: tuple[str, ...] = ()  # top-level keys of an object output
    json_schema: dict[str, Any] | None = None
    must_match: tuple[str, ...] = ()  # regular expressions (re.search)
    must_contain: tuple[str, ...] = ()
    must_not_contain: tuple[str, ...] = ()


# Built-in types get the generic checks only: what an agent answers is declared by its own outputSchema
# (checked by the agent client), so nothing here may add a hidden contract an operator's agent cannot see.
# Operators add rules per type in JOB_TYPE_OUTPUT_CHECKS, e.g. {"code-generation": {"requiredKeys": ["files"]}}.
DEFAULT_OUTPUT_RULES: dict[str, OutputRules] = {}
_RULE_KEYS = {
    "nonEmpty": "non_empty",
    "rejectErrorKey": "reject_error_key",
    "requiredKeys": "required_keys",
    "jsonSchema": "json_schema",
    "mustMatch": "must_match",
    "mustContain": "must_contain",
    "mustNotContain": "must_not_contain",
}


def parse_output_rules(spec: dict[str, Any]) -> OutputRules:
    """One job type's rules from the setting's JSON; a bad rule is a ValueError naming it (loud, at load)."""
    unknown = set(spec) - set(_RULE_KEYS)
    if unknown:
        raise ValueError(f"JOB_TYPE_OUTPUT_CHECKS: unknown rule {sorted(unknown)[0]!r}")
    values: dict[str, Any] = {}
    for key, name in _RULE_KEYS.items():
        if key not in spec:
            continue
        value = spec[key]
        if name in ("non_empty", "reject_error_key"):
            values[name] = bool(value)
        elif name == "json_schema":
            from jsonschema import SchemaError
            from jsonschema.validators import validator_for

            try:
                validator_for(value).check_schema(value)
            except (SchemaError, TypeError, AttributeError) as exc:
                raise ValueError(f"JOB_TYPE_OUTPUT_CHECKS: {key} is not a valid JSON Schema") from exc
            values[name] = value
        else:
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise ValueError(f"JOB_TYPE_OUTPUT_CHECKS: {key} must be a list of strings")
            if name == "must_match":
                for pattern in value:
                    try:
                        re.compile(pattern)
                    except re.error as exc:
                        raise ValueError(f"JOB_TYPE_OUTPUT_CHECKS: bad regular expression {pattern!r}") from exc
            values[name] = tuple(value)
    return OutputRules(**values)


@lru_cache(maxsize=4)
def _output_rules(raw: str) -> dict[str, OutputRules]:
    rules = dict(DEFAULT_OUTPUT_RULES)
    for job_type, spec in json.loads(raw or "{}").items():
        rules[job_type] = parse_output_rules(spec)
    return rules


def output_rules_for(job_type: str) -> OutputRules:
    """The job type's output checks; a type nobody declared gets the generic ones (non-empty, no error)."""
    return _output_rules(os.environ.get("JOB_TYPE_OUTPUT_CHECKS") or "").get(job_type, OutputRules())
