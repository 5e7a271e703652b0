"""JSON the CLI reads from people (flags, files) and writes for scripts, bounded as the API bounds its bodies.

A file is refused before it is sent when the API would refuse it anyway (over 256 KB, nested deeper than 32),
with a message naming the flag, so a typo costs no round trip and a huge file is never read into memory whole.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from agent_jobs_cli.outcomes import UsageError

MAX_BODY_BYTES = 256 * 1024  # the API's body limit (413 above it)
MAX_DEPTH = 32  # the API's nesting limit (400 above it)


def depth(value: Any) -> int:
    """How deeply ``value`` nests (a scalar is 0), without recursion (a hostile document cannot blow the stack)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: list[Any] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level + 1)
        if level + 1 > MAX_DEPTH:
            return level + 1
        stack.extend((child, level + 1) for child in children)
    return deepest


def parse(text: str, what: str) -> Any:
    """``text`` as JSON, or a UsageError naming ``what`` (a flag or a file)."""
    if len(text.encode()) > MAX_BODY_BYTES:
        raise UsageError(f"{what} is over {MAX_BODY_BYTES // 1024} KB (the API's limit)")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"{what} is not valid JSON ({exc})") from None
    if depth(value) > MAX_DEPTH:
        raise UsageError(f"{what} nests deeper than {MAX_DEPTH} levels (the API's limit)")
    return value


def read_text(path: str, what: str) -> str:
    """A file's text (``-``: stdin), at most the API's body size."""
    try:
        if path == "-":
            text = sys.stdin.read(MAX_BODY_BYTES + 1)
        else:
            with Path(path).open(encoding="utf-8") as handle:
                text = handle.read(MAX_BODY_BYTES + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {what} {path}: {exc}") from None
    if len(text.encode()) > MAX_BODY_BYTES:
        raise UsageError(f"{what} {path} is over {MAX_BODY_BYTES // 1024} KB (the API's limit)")
    return text


def value_or_file(argument: str, what: str) -> Any:
    """A JSON flag's value: inline JSON, or ``@path`` (``@-``: stdin) for a file's."""
    if argument.startswith("@"):
        return parse(read_text(argument[1:], what), f"{what} {argument[1:]}")
    return parse(argument, what)


def dump(document: Any) -> str:
    """One JSON document for scripts: the API's answer as it came, indented for people who look."""
    return json.dumps(document, indent=2, ensure_ascii=False)
