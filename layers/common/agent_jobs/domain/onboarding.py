"""The onboarding check (DESIGN.md §18): before jobs reach an agent, one signed test call with a sample input
made from its ``inputSchema``, the answer checked against its ``outputSchema`` — by the same agent client jobs
use (signing, SSRF guard on the URL and the connected peer, size and depth caps, no redirects).

The check is one try (no retries: an onboarding probe should see the agent as a job's first try would) within
``AGENT_CHECK_TIMEOUT_SECONDS`` (or the agent's own timeout, when shorter), so it fits in the request that
registers or changes the agent. Its result is stored on the agent; an agent whose last check failed is not
auto-assigned (``domain/assignment.shortlist``). The request carries ``"check": true`` and a ``jobId`` that
starts with ``check-``, so an agent (and its logs) can tell a probe from a job.

An agent registered with ``mode: async`` may answer the check as it answers a job: **202 Accepted** passes
("accepted asynchronously"; its outputSchema is then checked on its first real answer), and a 200 with its
output is checked against its outputSchema as a sync agent's is. The check carries no ``callbackUrl``: there
is no job to report to, and an async agent given none answers at once (``examples/agents``) or accepts it
with nowhere to call back — either way nothing reaches the callback route.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from agent_jobs.domain import audit
from agent_jobs.domain.auth import Principal
from agent_jobs.domain.schemas import schema_errors
from agent_jobs.errors import AgentCallError
from agent_jobs.integrations.agent_client import AgentTarget, call_agent, new_http_client
from agent_jobs.models.agents import Agent, AgentCheck, AgentMode
from agent_jobs.models.base import utc_now
from agent_jobs.repositories.registry import RegistryRepository
from agent_jobs.settings import Settings

CHECK_JOB_TYPE = "onboarding-check"
CALL_FIELDS = frozenset({"endpoint_url", "secret", "input_schema", "output_schema"})  # what a check depends on
_SAMPLE_TEXT = "onboarding check"
_FORMATS = {
    "email": "check@example.com",
    "uri": "https://example.com/check",
    "url": "https://example.com/check",
    "date-time": "2025-01-01T00:00:00Z",
    "date": "2025-01-01",
    "time": "00:00:00Z",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "192.0.2.1",
    "hostname": "example.com",
}
MAX_SAMPLE_DEPTH = 8


class NoSample(ValueError):
    """The generator cannot make an input the schema accepts (the schema should give ``examples``)."""


def _number(schema: dict[str, Any], integer: bool) -> float | int:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    value: float = (
        1 if low is None else float(low) + (1 if "exclusiveMinimum" in schema and "minimum" not in schema else 0)
    )
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if high is not None and value > float(high):
        value = float(high)
    step = schema.get("multipleOf")
    if step:
        value = (int(value // step) + (1 if value % step else 0)) * step
    return int(value) if integer else value


def _string(schema: dict[str, Any]) -> str:
    text = _FORMATS.get(str(schema.get("format", "")), _SAMPLE_TEXT)
    low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
    if len(text) < low:
        text = text + "x" * (low - len(text))
    if high is not None:
        text = text[: int(high)]
    return text


def _sample(schema: Any, depth: int) -> Any:
    if not isinstance(schema, dict) or depth > MAX_SAMPLE_DEPTH:
        return {}
    for key in ("const", "default"):
        if key in schema:
            return schema[key]
    for key in ("examples", "enum"):
        if schema.get(key):
            return schema[key][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return _sample(schema[key][0], depth + 1)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(part if isinstance(part, dict) else {})
        return _sample(merged, depth + 1)
    kind = schema.get("type", "object" if "properties" in schema else None)
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind == "object" or kind is None:
        properties = schema.get("properties") or {}
        required = [name for name in schema.get("required", []) if isinstance(name, str)]
        wanted = required or list(properties)
        return {name: _sample(properties.get(name, {"type": "string"}), depth + 1) for name in wanted}
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        return [_sample(schema.get("items", {"type": "string"}), depth + 1) for _ in range(count)]
    if kind == "string":
        return _string(schema)
    if kind in ("integer", "number"):
        return _number(schema, kind == "integer")
    if kind == "boolean":
        return True
    return None


def sample_input(schema: dict[str, Any] | None) -> dict[str, Any]:
    """An input the agent's ``inputSchema`` accepts: its ``examples[0]`` when it has one, else the smallest
    instance made from the schema (required members, minimums, formats). :class:`NoSample` if it does not fit."""
    if not schema:
        return {"text": _SAMPLE_TEXT}
    value = _sample(schema, 0)
    problems = schema_errors(value, schema, limit=1)
    if problems:
        raise NoSample(f"no sample input fits the inputSchema at {problems[0][:200]}")
    if not isinstance(value, dict):
        raise NoSample("the inputSchema does not describe a JSON object")
    return value


def check_request(agent: Agent, sample: dict[str, Any]) -> dict[str, Any]:
    """The body of a check call: the job request's shape (DESIGN.md §5) without ``callbackUrl``, marked as a
    check."""
    return {
        "jobId": f"check-{uuid.uuid4().hex}",
        "attempt": 0,
        "jobType": agent.job_types[0] if agent.job_types else CHECK_JOB_TYPE,
        "description": "Onboarding check: answer this sample input as you would a job, in your outputSchema.",
        "acceptanceCriteria": "",
        "input": sample,
        "feedback": None,
        "check": True,
    }


async def _call(settings: Settings, agent: Agent) -> AgentCheck:
    try:
        sample = sample_input(agent.input_schema)
    except NoSample as exc:
        return AgentCheck(passed=False, reason=f"{exc}; give the schema an `examples` entry", checked_at=utc_now())
    timeout = min(agent.timeout_seconds, settings.agent_check_timeout_seconds)
    one_try = settings.model_copy(update={"agent_max_retries": 0})
    accepts_async = agent.mode == AgentMode.ASYNC
    target = AgentTarget(agent.id, agent.endpoint_url, agent.secret, timeout, agent.output_schema, accepts_async)
    payload = check_request(agent, sample)
    async with new_http_client(one_try) as client:
        try:
            # one try at ``timeout`` (the target's): no deadline needed beyond it
            answer = await call_agent(client, target, payload, settings=one_try, message_id=payload["jobId"])
        except AgentCallError as exc:
            return AgentCheck(passed=False, reason=f"check call failed: {exc}"[:1000], checked_at=utc_now())
    if answer.accepted:  # only an async agent's 202 gets here (a sync agent's is refused by the client)
        return AgentCheck(
            passed=True,
            reason=f"accepted asynchronously (202) in {answer.latency_ms:.0f} ms; its outputSchema is checked "
            "when it answers 200",
            latency_ms=round(answer.latency_ms, 1),
            checked_at=utc_now(),
        )
    matched = "matches its outputSchema" if agent.output_schema else "is a JSON object (no outputSchema declared)"
    return AgentCheck(
        passed=True,
        reason=f"answered a sample input in {answer.latency_ms:.0f} ms; the answer {matched}",
        latency_ms=round(answer.latency_ms, 1),
        checked_at=utc_now(),
    )


def run_check(settings: Settings, agent: Agent) -> AgentCheck:
    """The check's result (never raises for the agent's faults: they are the result)."""
    return asyncio.run(_call(settings, agent))


def check_and_store(settings: Settings, who: Principal | str, agent: Agent) -> Agent:
    """Runs the check, stores its result on the agent and records it in the audit trail; the agent with it."""
    result = run_check(settings, agent)
    checked = RegistryRepository().save_check(agent, result)
    audit.record(who, "agent.checked", audit.agent_target(agent.id), {"check": result.to_api()})
    return checked


def needs_check(changed: set[str]) -> bool:
    """Registering an agent, or changing how it is called, runs the check again."""
    return bool(changed & CALL_FIELDS)
