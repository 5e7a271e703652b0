"""The body of ``POST /api/jobs`` from ``create``'s flags, a JSON file and/or a template (pure: no I/O here).

Precedence, lowest first: the file (``--file``), then the template reference (``--template`` and ``--var``; the
server fills the template and lets the body's own fields override it), then the flags. Tags from the file and
the flags are merged in order, without repeats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agent_jobs_cli.outcomes import UsageError

MAX_TAGS = 10  # DESIGN.md §16


@dataclass
class CreateOptions:
    base: dict[str, Any] | None = None  # --file's object
    name: str | None = None
    description: str | None = None
    criteria: str | None = None
    job_type: str | None = None
    input_data: Any = None
    priority: int | None = None
    agent: str | None = None
    tags: Sequence[str] = ()
    template: str | None = None
    variables: Sequence[str] = field(default_factory=list)


def parse_tag(text: str) -> str:
    """``key:value`` (the server checks the key's and value's characters; here only the shape)."""
    key, colon, value = text.partition(":")
    if not colon or not key.strip() or not value.strip():
        raise UsageError(f"--tag {text!r}: write key:value, e.g. --tag team:search")
    return f"{key.strip()}:{value.strip()}"


def parse_variable(text: str) -> tuple[str, str]:
    """``name=value`` (the value is text; everything after the first ``=``)."""
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise UsageError(f"--var {text!r}: write name=value, e.g. --var repo=search")
    return name.strip(), value


def _merged_tags(existing: Any, added: Sequence[str]) -> list[str]:
    if existing is not None and not (isinstance(existing, list) and all(isinstance(t, str) for t in existing)):
        raise UsageError("the file's tags must be a list of key:value strings")
    tags: list[str] = []
    for tag in [*(existing or []), *(parse_tag(t) for t in added)]:
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise UsageError(f"at most {MAX_TAGS} tags (got {len(tags)})")
    return tags


def create_body(options: CreateOptions) -> dict[str, Any]:
    body: dict[str, Any] = dict(options.base or {})
    if options.variables and not options.template:
        raise UsageError("--var fills a template's placeholders: give --template ID too")
    if options.template:
        body["templateId"] = options.template
        variables = dict(body.get("variables") or {})
        variables.update(parse_variable(v) for v in options.variables)
        if variables:
            body["variables"] = variables
    flags = {
        "name": options.name,
        "description": options.description,
        "acceptanceCriteria": options.criteria,
        "jobType": options.job_type,
        "inputData": options.input_data,
        "priority": options.priority,
        "agentId": options.agent,
    }
    body.update({key: value for key, value in flags.items() if value is not None})
    if options.input_data is not None and not isinstance(options.input_data, dict):
        raise UsageError('--input must be a JSON object, e.g. --input \'{"userId": "u-1"}\'')
    if options.tags or "tags" in body:
        body["tags"] = _merged_tags(body.get("tags"), options.tags)
    if not (body.get("description") or body.get("taskDescription") or body.get("templateId")):
        raise UsageError("create needs --description (or --file job.json, or --template ID)")
    return body
