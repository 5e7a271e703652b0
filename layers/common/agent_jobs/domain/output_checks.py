"""The deterministic checks an agent's output must pass before the LLM judge sees it (DESIGN.md §18). Pure.

They are cheap, explainable and free of tokens: a failed check fails the job without calling the judge,
and a job without acceptance criteria is decided by them alone. The rules per job type are declared in
``domain/policies.py`` (``OutputRules``, plus the ``JOB_TYPE_OUTPUT_CHECKS`` setting). Every check looks at
the whole output, so nothing here ever passes content it did not read.
"""

from __future__ import annotations

import re
from typing import Any

from agent_jobs.domain.policies import OutputRules
from agent_jobs.domain.schemas import schema_errors

MAX_SHOWN = 3


def output_text(output: Any) -> str:
    """Every string in ``output`` (keys and values, numbers as text), one per line, in document order."""
    lines: list[str] = []
    stack = [output]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in reversed(list(item.items())):
                stack.append(value)
                stack.append(str(key))
        elif isinstance(item, list | tuple):
            stack.extend(reversed(item))
        elif item is not None:
            lines.append(str(item))
    return "\n".join(lines)


def _empty(output: Any) -> bool:
    return output is None or (isinstance(output, str | dict | list) and not output)


def _listing(items: list[str]) -> str:
    shown = ", ".join(repr(item[:80]) for item in items[:MAX_SHOWN])
    return shown + (f" and {len(items) - MAX_SHOWN} more" if len(items) > MAX_SHOWN else "")


def check_output(rules: OutputRules, output: Any) -> list[str]:
    """The problems ``output`` has under ``rules`` (empty: every check passed)."""
    if rules.non_empty and _empty(output):
        return ["the output is empty"]
    problems: list[str] = []
    if rules.reject_error_key and isinstance(output, dict) and "error" in output:
        problems.append(f"the output reports an error: {str(output['error'])[:200]}")
    if rules.required_keys:
        present = output if isinstance(output, dict) else {}
        missing = [key for key in rules.required_keys if key not in present]
        if missing:
            problems.append(f"the output lacks required keys: {_listing(missing)}")
    problems += [
        f"the output does not match the job type's schema at {p}" for p in schema_errors(output, rules.json_schema)
    ]
    if rules.must_match or rules.must_contain or rules.must_not_contain:
        text = output_text(output)
        folded = text.casefold()
        unmatched = [pattern for pattern in rules.must_match if not re.search(pattern, text)]
        absent = [needle for needle in rules.must_contain if needle.casefold() not in folded]
        forbidden = [needle for needle in rules.must_not_contain if needle.casefold() in folded]
        if unmatched:
            problems.append(f"the output does not match {_listing(unmatched)}")
        if absent:
            problems.append(f"the output does not contain {_listing(absent)}")
        if forbidden:
            problems.append(f"the output contains {_listing(forbidden)}")
    return problems
