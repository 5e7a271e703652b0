"""The example agents: one per job type of seed 004, plus ``long-task``, an **async** agent (DESIGN.md §14).

Every agent receives the platform's request ``{jobId, attempt, jobType, description, acceptanceCriteria,
input, feedback, callbackUrl}`` (``input`` matches its ``inputSchema``) and answers JSON matching its
``outputSchema``. The async one answers 202 Accepted instead, reports its progress a few times to
``callbackUrl`` and then posts its output there, each callback signed with its own secret
(``examples/agents/server.py``). They are deterministic and offline: good enough to run the whole workflow,
not artificial intelligence.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

Work = Callable[[dict[str, Any]], dict[str, Any]]
ELIDED_BODY = re.compile(r"\{\s*(\.\.\.|…)\s*\}")  # describe("auth", () => { ... })
TS_FUNCTION = re.compile(r"export\s+(?:async\s+)?function\s+([A-Za-z_$][\w$]*)")


@dataclass(frozen=True)
class AgentDefinition:
    job_type: str
    name: str
    description: str
    skills: tuple[str, ...]
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    work: Work = field(repr=False)
    timeout_seconds: int = 30
    # async agents: 202, then one progress report per step, ``step_seconds`` apart, then the output by callback
    mode: str = "sync"
    steps: tuple[str, ...] = ()
    step_seconds: float = 0.0
    max_run_seconds: int = 600  # the platform's lease on an accepted attempt (a 10-minute run at most)
    heartbeat_seconds: int = 60  # a progress report at least this often, or the attempt times out

    @property
    def is_async(self) -> bool:
        return self.mode == "async"

    def registration(self, endpoint_url: str, secret: str, *, time_scale: float = 1.0) -> dict[str, Any]:
        """The body of ``POST /api/admin/agents`` for this agent (an async agent's lease scaled like its work)."""
        body = self._registration(endpoint_url, secret)
        if self.is_async:
            body["mode"] = "async"
            body["maxRunSeconds"] = max(1, round(self.max_run_seconds * time_scale))
            body["heartbeatSeconds"] = max(1, round(self.heartbeat_seconds * time_scale))
        return body

    def _registration(self, endpoint_url: str, secret: str) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "jobTypes": [self.job_type],
            "skills": list(self.skills),
            "endpointUrl": endpoint_url,
            "inputSchema": self.input_schema,
            "outputSchema": self.output_schema,
            "timeoutSeconds": self.timeout_seconds,
            "secret": secret,
        }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _feedback_note(request: dict[str, Any]) -> str:
    feedback = request.get("feedback")
    return f" Addressed the reviewer's feedback: {feedback}" if feedback else ""


def _input(request: dict[str, Any]) -> dict[str, Any]:
    given = request.get("input")
    return given if isinstance(given, dict) else {}


def _tidy(value: Any) -> Any:
    """Strings trimmed, nested objects and lists tidied the same way."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        return {key: _tidy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_tidy(item) for item in value]
    return value


# --- simple-task --------------------------------------------------------------------------------


def simple_task(request: dict[str, Any]) -> dict[str, Any]:
    data = _input(request)
    processed = _tidy(data)
    action, subject = processed.get("action"), processed.get("userId")
    did = f"{action} for {subject}" if action and subject else (str(action or "the task"))
    result = {
        "status": "processed",
        "action": action,
        "userId": subject,
        "input": processed,
        "fieldsProcessed": sorted(processed),
        "processedAt": _now(),
    }
    summary = f"{request.get('description') or 'Task'}: done ({did}, {len(processed)} fields)."
    return {"result": result, "summary": summary + _feedback_note(request)}


SIMPLE_INPUT = {
    "type": "object",
    "description": "Any JSON object: the data the task works on (for example userId and action).",
    "maxProperties": 100,
}
SIMPLE_OUTPUT = {
    "type": "object",
    "required": ["result", "summary"],
    "properties": {
        "result": {"type": "object"},
        "summary": {"type": "string", "minLength": 1},
    },
}


# --- code-generation ----------------------------------------------------------------------------


def _identifier(text: str, *, camel: bool) -> str:
    words = re.findall(r"[A-Za-z0-9]+", text) or ["generated"]
    if camel:
        name = words[0].lower() + "".join(word.capitalize() for word in words[1:])
    else:
        name = "_".join(word.lower() for word in words)
    return name if not name[0].isdigit() else f"m_{name}"


def _header(path: str, description: str, attempt: int) -> str:
    comment = "#" if path.endswith(".py") else "//"
    return f"{comment} {description}\n{comment} Reviewed by the example code-generation agent (attempt {attempt}).\n"


def _typescript_module(stem: str, description: str) -> str:
    name = _identifier(stem, camel=True)
    return (
        f"/**\n * {description}\n */\n"
        f"export function {name}(input: Record<string, unknown>): Record<string, unknown> {{\n"
        f'  if (input === null || typeof input !== "object") {{\n'
        f'    throw new TypeError("{name}: input must be an object");\n'
        f"  }}\n"
        f'  return {{ ...input, handledBy: "{name}" }};\n'
        f"}}\n"
    )


def _typescript_test(path: PurePosixPath, exported: list[str]) -> str:
    module = path.name.split(".")[0]
    name = exported[0] if exported else _identifier(module, camel=True)
    return (
        f'import {{ {name} }} from "./{module}";\n\n'
        f'describe("{module}", () => {{\n'
        f'  it("{name} answers for a valid input", () => {{\n'
        f"    expect({name}({{}})).toBeDefined();\n"
        f"  }});\n"
        f"}});\n"
    )


def _python_module(stem: str, description: str) -> str:
    name = _identifier(stem, camel=False)
    return (
        f'"""{description}"""\n\n\n'
        f"def {name}(data: dict) -> dict:\n"
        f'    """{description}"""\n'
        f"    if not isinstance(data, dict):\n"
        f'        raise TypeError("{name}: data must be a dict")\n'
        f'    return {{**data, "handled_by": "{name}"}}\n'
    )


def _python_test(stem: str) -> str:
    name = _identifier(stem, camel=False)
    return (
        f"from generated.{name} import {name}\n\n\n"
        f"def test_{name}_keeps_the_data() -> None:\n"
        f'    assert {name}({{"a": 1}})["a"] == 1\n'
    )


def _is_placeholder(content: str) -> bool:
    """Nothing, ``...``, ``TODO``, or a body elided as ``{ ... }``: a file to write, not to review."""
    return content.strip() in ("", "...", "…", "TODO") or ELIDED_BODY.search(content) is not None


def _improve(file: dict[str, Any], description: str, attempt: int, exported: list[str]) -> tuple[dict[str, str], bool]:
    """The file reviewed (header added) or, when its content is only a placeholder, written. True = written."""
    path = str(file.get("path") or "generated/module.ts")
    content = str(file.get("content") or "")
    pure = PurePosixPath(path)
    if not _is_placeholder(content):
        return {"path": path, "content": _header(path, description, attempt) + content.rstrip() + "\n"}, False
    if ".test." in pure.name or pure.name.startswith("test_"):
        body = (
            _python_test(pure.stem.removeprefix("test_")) if path.endswith(".py") else _typescript_test(pure, exported)
        )
    elif path.endswith(".py"):
        body = _python_module(pure.stem, description)
    else:
        body = _typescript_module(pure.name.split(".")[0], description)
    return {"path": path, "content": body}, True


def code_generation(request: dict[str, Any]) -> dict[str, Any]:
    data = _input(request)
    description = str(data.get("description") or request.get("description") or "Generated module").strip()
    attempt = int(request.get("attempt") or 1)
    given = [item for item in data.get("files") or [] if isinstance(item, dict)]
    if not given:
        stem = _identifier(description, camel=False)[:40]
        files = [
            {"path": f"generated/{stem}.py", "content": _python_module(stem, description)},
            {"path": f"tests/test_{stem}.py", "content": _python_test(stem)},
        ]
        summary = f"Generated a Python module and its test from the description: {description}."
        return {"files": files, "summary": summary + _feedback_note(request), "language": "python"}
    exported = [name for item in given for name in TS_FUNCTION.findall(str(item.get("content") or ""))]
    files, written = [], 0
    for item in given:
        file, was_written = _improve(item, description, attempt, exported or [])
        files.append(file)
        written += was_written
    summary = (
        f"{description}: reviewed {len(files) - written} file(s) and wrote {written} from placeholders "
        f"({', '.join(f['path'] for f in files)})."
    )
    return {"files": files, "summary": summary + _feedback_note(request)}


FILE_SCHEMA = {
    "type": "object",
    "required": ["path", "content"],
    "properties": {
        "path": {"type": "string", "minLength": 1, "maxLength": 500},
        "content": {"type": "string", "maxLength": 200_000},
    },
}
CODE_INPUT = {
    "type": "object",
    "required": ["description"],
    "properties": {
        "description": {"type": "string", "minLength": 1, "maxLength": 10_000, "description": "what the code does"},
        "files": {"type": "array", "maxItems": 50, "items": FILE_SCHEMA, "description": "files to review or fill in"},
        "language": {"type": "string", "maxLength": 50},
    },
}
CODE_OUTPUT = {
    "type": "object",
    "required": ["files", "summary"],
    "properties": {
        "files": {"type": "array", "minItems": 1, "items": FILE_SCHEMA},
        "summary": {"type": "string", "minLength": 1},
        "language": {"type": "string"},
    },
}


# --- data-processing ----------------------------------------------------------------------------


def _is_name_field(key: str) -> bool:
    lowered = key.lower()
    return lowered == "name" or (lowered.endswith("name") and not lowered.endswith("username"))


def _normalize_row(row: Any, counts: dict[str, int]) -> Any:
    if not isinstance(row, dict):
        return _tidy(row)
    normalized: dict[str, Any] = {}
    for key, value in row.items():
        if not isinstance(value, str):
            normalized[key] = _tidy(value)
            continue
        new = " ".join(value.split())
        counts["trimmed"] += new != value
        if "email" in key.lower():
            counts["emails"] += new != new.lower()
            new = new.lower()
        elif _is_name_field(key):
            counts["names"] += new != new.title()
            new = new.title()
        normalized[key] = new
    return normalized


def data_processing(request: dict[str, Any]) -> dict[str, Any]:
    data = _input(request)
    given = data.get("data")
    rows: list[Any] = given if isinstance(given, list) else []
    operation = str(data.get("operation") or "transform")
    transform = str(data.get("transform") or "normalize")
    counts = {"trimmed": 0, "emails": 0, "names": 0}
    normalized = [_normalize_row(row, counts) for row in rows]
    plan = {
        "operation": operation,
        "transform": transform,
        "rows": len(rows),
        "steps": [
            "trim and collapse whitespace in every text field",
            "lowercase every field whose name contains 'email'",
            "title-case name fields (name, firstName, lastName, ...)",
            "keep ids and other non-text values unchanged",
        ],
    }
    summary = (
        f"{operation}/{transform}: normalized {len(normalized)} row(s) — {counts['trimmed']} value(s) trimmed, "
        f"{counts['emails']} email(s) lowercased, {counts['names']} name(s) title-cased."
    )
    return {"data": normalized, "summary": summary + _feedback_note(request), "plan": plan}


DATA_INPUT = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "operation": {"type": "string", "maxLength": 100},
        "transform": {"type": "string", "maxLength": 100},
        "data": {"type": "array", "maxItems": 10_000, "items": {"type": "object"}},
    },
}
DATA_OUTPUT = {
    "type": "object",
    "required": ["data", "summary", "plan"],
    "properties": {
        "data": {"type": "array"},
        "summary": {"type": "string", "minLength": 1},
        "plan": {
            "type": "object",
            "required": ["steps"],
            "properties": {"steps": {"type": "array", "items": {"type": "string"}}},
        },
    },
}


# --- long-task (async) ---------------------------------------------------------------------------


LONG_STEPS = ("gathering sources", "reading", "comparing findings", "drafting the report", "checking the draft")


def long_task(request: dict[str, Any]) -> dict[str, Any]:
    """The final output of the async agent, once its steps are done."""
    data = _input(request)
    topic = str(data.get("topic") or request.get("description") or "the topic").strip()
    findings = [f"{step.capitalize()} on {topic}: done." for step in LONG_STEPS]
    summary = f"Researched {topic} in {len(LONG_STEPS)} steps and wrote a report."
    return {
        "summary": summary + _feedback_note(request),
        "report": {"topic": topic, "findings": findings, "finishedAt": _now()},
    }


LONG_INPUT = {
    "type": "object",
    "properties": {"topic": {"type": "string", "minLength": 1, "maxLength": 500, "description": "what to research"}},
    "examples": [{"topic": "serverless queues"}],
}
LONG_OUTPUT = {
    "type": "object",
    "required": ["summary", "report"],
    "properties": {
        "summary": {"type": "string", "minLength": 1},
        "report": {"type": "object", "required": ["findings"], "properties": {"findings": {"type": "array"}}},
    },
}


AGENTS: tuple[AgentDefinition, ...] = (
    AgentDefinition(
        job_type="simple-task",
        name="Example simple-task agent",
        description="Processes a small JSON payload (e.g. a user action) and reports what it did.",
        skills=("data handling", "user actions"),
        input_schema=SIMPLE_INPUT,
        output_schema=SIMPLE_OUTPUT,
        work=simple_task,
    ),
    AgentDefinition(
        job_type="code-generation",
        name="Example code-generation agent",
        description="Reviews source files, fills in placeholders, or writes a small module from a description.",
        skills=("typescript", "python", "code review"),
        input_schema=CODE_INPUT,
        output_schema=CODE_OUTPUT,
        work=code_generation,
    ),
    AgentDefinition(
        job_type="data-processing",
        name="Example data-processing agent",
        description="Normalizes tabular records: trims text, lowercases emails, title-cases names.",
        skills=("data cleaning", "normalization"),
        input_schema=DATA_INPUT,
        output_schema=DATA_OUTPUT,
        work=data_processing,
    ),
    AgentDefinition(
        job_type="long-task",
        name="Example long-running agent (async)",
        description="Researches a topic in several steps over about half a minute: answers 202 at once, reports "
        "its progress, then posts its report to the platform's callback URL.",
        skills=("research", "long-running work"),
        input_schema=LONG_INPUT,
        output_schema=LONG_OUTPUT,
        work=long_task,
        mode="async",
        steps=LONG_STEPS,
        step_seconds=6.0,
    ),
)
AGENTS_BY_TYPE = {agent.job_type: agent for agent in AGENTS}
