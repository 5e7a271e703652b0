"""The agent client against a real local agent server, with the real httpx client."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from agent_jobs.errors import AgentCallError, UnsafeUrlError
from agent_jobs.integrations.agent_client import (
    AgentCallFailed,
    AgentCallResult,
    AgentTarget,
    _check_peer,
    call_agent,
    new_http_client,
)
from agent_jobs.integrations.signing import verify
from agent_jobs.settings import Settings
from tests.fixtures.agent_server import AgentServer

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SETTINGS = Settings(
    allow_loopback_http_agents=True,
    agent_retry_base_seconds=0.01,
    agent_max_retries=2,
    agent_max_response_bytes=64 * 1024,
)
OUTPUT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["result", "summary"],
    "properties": {"result": {"type": "object"}, "summary": {"type": "string"}},
}
PAYLOAD = {
    "jobId": "job-1",
    "attempt": 1,
    "jobType": "simple-task",
    "description": "say hello",
    "acceptanceCriteria": "greets",
    "input": {"text": "hello"},
    "feedback": None,
}


@pytest.fixture(scope="module")
def agent() -> Iterator[AgentServer]:
    with AgentServer(secret=SECRET) as server:
        yield server


def call(
    url: str,
    *,
    settings: Settings = SETTINGS,
    timeout: float = 5.0,
    schema: dict[str, Any] | None = OUTPUT_SCHEMA,
    payload: dict[str, Any] | None = None,
    secret: str = SECRET,
) -> AgentCallResult:
    async def go() -> AgentCallResult:
        async with new_http_client(settings) as client:
            target = AgentTarget("agent-1", url, secret, timeout, schema)
            return await call_agent(client, target, payload or PAYLOAD, settings=settings, message_id="msg-1")

    return asyncio.run(go())


def failure(url: str, **kwargs: Any) -> AgentCallFailed:
    with pytest.raises(AgentCallFailed) as info:
        call(url, **kwargs)
    assert isinstance(info.value, AgentCallError)
    return info.value


def test_fast_answer_is_returned_and_signed(agent: AgentServer) -> None:
    result = call(agent.url("/fast?t=fast"))
    assert result.output == {"result": {"text": "hello"}, "summary": "done"}
    assert (result.status_code, result.attempts) == (200, 1)
    [seen] = agent.requests_to("/fast?t=fast")
    assert seen.body == PAYLOAD
    assert seen.signature_ok is True
    assert verify(SECRET, seen.headers, seen.raw_body)
    assert seen.headers["webhook-id"] == "msg-1"
    assert seen.headers["content-type"] == "application/json"


def test_wrong_secret_is_refused_by_the_agent(agent: AgentServer) -> None:
    error = failure(agent.url("/fast?t=wrong-secret"), secret="not-the-secret")
    assert "HTTP 401" in str(error)
    assert error.attempts == 1
    assert agent.requests_to("/fast?t=wrong-secret")[0].signature_ok is False


def test_slow_answer_within_timeout(agent: AgentServer) -> None:
    result = call(agent.url("/slow?seconds=1&t=slow"), timeout=3)
    assert result.output["summary"] == "done"
    assert 1000 <= result.latency_ms < 2500


def test_500_then_ok_is_retried_and_counted(agent: AgentServer) -> None:
    result = call(agent.url("/flaky?fail=1&t=500-once"))
    assert result.attempts == 2
    seen = agent.requests_to("/flaky?fail=1&t=500-once")
    assert len(seen) == 2
    assert {r.headers["webhook-id"] for r in seen} == {"msg-1"}  # same id across retries
    assert all(r.signature_ok for r in seen)


def test_persistent_5xx_gives_up_after_the_retries(agent: AgentServer) -> None:
    error = failure(agent.url("/flaky?fail=9&t=500-always"))
    assert error.attempts == 3
    assert error.status_code == 500
    assert "HTTP 500" in str(error) and "after 3 attempts" in str(error)
    assert len(agent.requests_to("/flaky?fail=9&t=500-always")) == 3


def test_429_then_ok_honours_retry_after(agent: AgentServer) -> None:
    started = time.perf_counter()
    result = call(agent.url("/status?code=429&times=1&retry_after=0.3&t=429"))
    assert result.attempts == 2
    assert time.perf_counter() - started >= 0.3


def test_429_with_too_long_retry_after_is_not_waited_for(agent: AgentServer) -> None:
    started = time.perf_counter()
    error = failure(agent.url("/status?code=429&times=9&retry_after=3600&t=429-long"))
    assert error.attempts == 1
    assert "Retry-After" in str(error)
    assert time.perf_counter() - started < 1


def test_4xx_is_not_retried(agent: AgentServer) -> None:
    error = failure(agent.url("/status?code=400&times=9&t=400"))
    assert (error.attempts, error.status_code) == (1, 400)
    assert len(agent.requests_to("/status?code=400&times=9&t=400")) == 1


def test_non_json_answer_is_refused(agent: AgentServer) -> None:
    error = failure(agent.url("/garbage"))
    assert "not JSON" in str(error)
    assert error.attempts == 1


def test_off_schema_answer_is_refused(agent: AgentServer) -> None:
    error = failure(agent.url("/offschema"))
    assert "outputSchema" in str(error) and "'result' is a required property" in str(error)


def test_off_schema_names_the_failing_path(agent: AgentServer) -> None:
    schema = {
        "type": "object",
        "properties": {"result": {"type": "object", "properties": {"text": {"type": "string"}}}},
    }
    payload = {**PAYLOAD, "input": {"text": 42}}
    error = failure(agent.url("/fast?t=path"), schema=schema, payload=payload)
    assert "$.result.text" in str(error)


def test_hang_times_out_without_retry(agent: AgentServer) -> None:
    started = time.perf_counter()
    error = failure(agent.url("/hang?t=hang"), timeout=0.5)
    elapsed = time.perf_counter() - started
    assert "timed out after 0.5s" in str(error)
    assert error.attempts == 1
    assert elapsed < 5  # the 0.5 s timeout, not the agent's hang (margins for a loaded CI machine)
    assert len(agent.requests_to("/hang?t=hang")) == 1


def test_timeout_is_capped_by_settings(agent: AgentServer) -> None:
    settings = SETTINGS.model_copy(update={"agent_max_timeout_seconds": 0.3})
    started = time.perf_counter()
    error = failure(agent.url("/hang?t=cap"), timeout=60, settings=settings)
    assert "timed out after 0.3s" in str(error)
    assert time.perf_counter() - started < 5


def test_redirect_is_refused_and_not_followed(agent: AgentServer) -> None:
    target = agent.url("/fast?t=redirect-target")
    error = failure(agent.url(f"/redirect?to={target}"))
    assert "redirect refused" in str(error)
    assert error.status_code == 302
    assert agent.requests_to("/fast?t=redirect-target") == []


@pytest.mark.parametrize("chunked", ["0", "1"])
def test_huge_answer_is_refused(agent: AgentServer, chunked: str) -> None:
    error = failure(agent.url(f"/huge?bytes=200000&chunked={chunked}"))
    assert "too large" in str(error)


def test_ten_concurrent_slow_calls_overlap(agent: AgentServer) -> None:
    async def go() -> list[AgentCallResult]:
        async with new_http_client(SETTINGS) as client:
            calls = [
                call_agent(
                    client,
                    AgentTarget("agent-1", agent.url(f"/slow?seconds=1&t=c{i}"), SECRET, 5, OUTPUT_SCHEMA),
                    PAYLOAD,
                    settings=SETTINGS,
                    message_id=f"msg-{i}",
                )
                for i in range(10)
            ]
            return await asyncio.gather(*calls)

    started = time.perf_counter()
    results = asyncio.run(go())
    assert time.perf_counter() - started < 5  # overlapping: one after the other would take 10 s
    assert [r.attempts for r in results] == [1] * 10


def test_loopback_refused_when_setting_off_and_nothing_is_sent(agent: AgentServer) -> None:
    settings = SETTINGS.model_copy(update={"allow_loopback_http_agents": False})
    error = failure(agent.url("/fast?t=ssrf"), settings=settings)
    assert "unsafe agent URL" in str(error)
    assert error.attempts == 1
    assert agent.requests_to("/fast?t=ssrf") == []


def test_connection_refused_is_retried_then_fails() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = failure(f"http://127.0.0.1:{port}/fast")
    assert "cannot connect" in str(error)
    assert error.attempts == 3


def test_the_secret_never_shows_in_a_target_repr() -> None:
    target = AgentTarget("agent-1", "https://agent.example.com/", "very-secret-value", 5, None)
    assert "very-secret-value" not in repr(target)


class _Stream:
    def __init__(self, addr: tuple[str, int]) -> None:
        self.addr = addr
        self.closed = False

    def get_extra_info(self, name: str) -> Any:
        return self.addr if name == "server_addr" else None

    async def aclose(self) -> None:
        self.closed = True


def test_peer_address_guard_closes_and_refuses_non_public_peers() -> None:
    private = _Stream(("10.0.0.7", 443))
    with pytest.raises(UnsafeUrlError, match=r"10\.0\.0\.7"):
        asyncio.run(_check_peer(private, allow_loopback=False))
    assert private.closed
    asyncio.run(_check_peer(_Stream(("127.0.0.1", 80)), allow_loopback=True))
    asyncio.run(_check_peer(_Stream(("8.8.8.8", 443)), allow_loopback=False))
