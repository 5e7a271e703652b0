"""The verdict rules (DESIGN.md §18): what a judge's answer must say before it counts as a pass. Pure.

A pass needs, all at once: ``isValid``; every acceptance criterion judged (a non-empty criteria list when
the job has criteria) and met; ``score`` at least the job's ``passScore``. A verdict that claims a pass
its own evidence contradicts is *inconsistent*: the caller asks again once, then fails the job with
:data:`INCONSISTENT`. A fail is always taken as given: failing is the safe side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent_jobs.integrations.judge import Verdict, align_criteria

INCONSISTENT = "inconsistent verdict"
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d{1,3}[.)])\s+")


def criteria_list(acceptance_criteria: str) -> list[str]:
    """The job's acceptance criteria, one per non-empty line, list bullets and numbers removed."""
    items = (_BULLET.sub("", line).strip() for line in acceptance_criteria.splitlines())
    return [item for item in items if item]


@dataclass(frozen=True, slots=True)
class Check:
    """What a verdict is worth: ``passed`` (the platform's decision), ``consistent``, and why."""

    passed: bool
    consistent: bool
    reason: str


def check_verdict(verdict: Verdict, criteria: list[str], pass_score: float) -> Check:
    """The decision a verdict supports for a job with ``criteria`` and ``pass_score``."""
    if not verdict.isValid:
        return Check(passed=False, consistent=True, reason=verdict.reason)
    slots = align_criteria(criteria, [entry.criterion for entry in verdict.criteria])
    unjudged = [criterion for criterion, slot in zip(criteria, slots, strict=True) if slot is None]
    unmet = [
        criterion
        for criterion, slot in zip(criteria, slots, strict=True)
        if slot is not None and not verdict.criteria[slot].met
    ]
    if criteria and not verdict.criteria:
        return Check(False, False, f"{INCONSISTENT}: a pass that judges none of the {len(criteria)} criteria")
    if unjudged:
        return Check(False, False, f"{INCONSISTENT}: a pass that does not judge {_quote(unjudged)}")
    if unmet:
        return Check(False, False, f"{INCONSISTENT}: a pass with unmet criteria {_quote(unmet)}")
    if verdict.score < pass_score:
        return Check(
            False, True, f"score {verdict.score:.2f} is below the pass score {pass_score:.2f}: {verdict.reason}"
        )
    return Check(passed=True, consistent=True, reason=verdict.reason)


def _quote(criteria: list[str]) -> str:
    shown = "; ".join(repr(c[:80]) for c in criteria[:3])
    return shown + (f" and {len(criteria) - 3} more" if len(criteria) > 3 else "")
