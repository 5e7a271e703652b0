"""Issue 18 item 2, for async agents (DESIGN.md §14, §18): the onboarding check accepts a ``mode: async`` agent's
202 as "accepted asynchronously", checks the output schema only when the agent answers 200, and sends no
callbackUrl (there is no job to report on). On moto, through the real handlers, with the real local agent
server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agent_jobs.services import reset
from tests.fixtures.agent_server import AgentServer
from tests.integration.conftest import Api

SECRET = "whsec-onboarding-async-0123456789"
PUBLIC_URL = "https://api.agent-jobs.example"
OUTPUT_SCHEMA = {"type": "object", "required": ["result"], "properties": {"result": {"type": "object"}}}


@pytest.fixture
def agent_server(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[AgentServer]:
    monkeypatch.setenv("ALLOW_LOOPBACK_HTTP_AGENTS", "true")
    monkeypatch.setenv("PUBLIC_API_URL", PUBLIC_URL)
    reset()
    with AgentServer(secret=SECRET) as server:
        yield server


def register(admin: Api, url: str, **extra: Any) -> dict[str, Any]:
    body = {
        "name": "onboarding-async",
        "endpointUrl": url,
        "secret": SECRET,
        "jobTypes": ["long-task"],
        "outputSchema": OUTPUT_SCHEMA,
        "timeoutSeconds": 2,
        **extra,
    }
    reply = admin.post("/api/admin/agents", body)
    assert reply.status == 201, reply.body
    return dict(reply.body["agent"])


def test_an_async_agent_that_answers_202_passes_as_accepted_asynchronously(
    admin: Api, agent_server: AgentServer
) -> None:
    agent = register(admin, agent_server.url("/accepted"), mode="async")
    check = agent["check"]
    assert check["passed"] is True, check
    assert "accepted asynchronously (202)" in check["reason"] and check["latencyMs"] > 0
    (probe,) = agent_server.checks
    assert probe.signature_ok is True and probe.body["check"] is True


def test_the_check_carries_no_callback_url(admin: Api, agent_server: AgentServer) -> None:
    """A check is no job: an async agent has nothing to call back about (the public URL is set here, so a job
    call would carry one)."""
    register(admin, agent_server.url("/accepted"), mode="async")
    (probe,) = agent_server.checks
    assert "callbackUrl" not in probe.body and probe.body["jobId"].startswith("check-")


def test_an_async_agent_that_answers_200_has_its_output_checked(admin: Api, agent_server: AgentServer) -> None:
    good = register(admin, agent_server.url("/fast"), mode="async")
    assert good["check"]["passed"] is True and "matches its outputSchema" in good["check"]["reason"]
    off = register(admin, agent_server.url("/offschema"), mode="async", name="off-schema")
    assert off["check"]["passed"] is False and "outputSchema" in off["check"]["reason"], off["check"]


def test_a_sync_agent_that_answers_202_still_fails(admin: Api, agent_server: AgentServer) -> None:
    agent = register(admin, agent_server.url("/accepted"))
    assert agent["check"]["passed"] is False and "mode sync" in agent["check"]["reason"], agent["check"]
