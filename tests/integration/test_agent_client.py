"""The agent client against a real local agent server, with the real httpx client."""

from __future__ import annotations

import asyncio
import socket
import time
import tracemalloc
from base64 import urlsafe_b64encode
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
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
from local.http_server import BackgroundServer, LoopbackServer
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


# --- hostile answers: compression bombs, deep nesting, JSON we could not store or pass on ---------------


def peak_bytes_of(run: Any) -> tuple[Any, int]:
    """``run()``'s result (or the exception it raised) and the peak Python memory it allocated."""
    tracemalloc.start()
    try:
        try:
            outcome: Any = run()
        except Exception as exc:
            outcome = exc
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_identity_is_the_only_encoding_asked_for(agent: AgentServer) -> None:
    call(agent.url("/fast?t=accept-encoding"))
    [seen] = agent.requests_to("/fast?t=accept-encoding")
    assert seen.headers["accept-encoding"] == "identity"


@pytest.mark.parametrize("encoding", ["gzip", "gzip, gzip", "deflate"])
def test_compression_bomb_is_refused_unread_with_bounded_memory(agent: AgentServer, encoding: str) -> None:
    """64 MiB of zeros in < 70 KB (a few hundred bytes for "gzip, gzip"): refused before anything is decoded."""
    settings = SETTINGS.model_copy(update={"agent_max_response_bytes": 256 * 1024})
    url = agent.url(f"/encoded?encoding={encoding}&mib=64")
    failure(url, settings=settings, schema=None)  # the server builds (and caches) its bomb outside the measure
    outcome, peak = peak_bytes_of(lambda: call(url, settings=settings, schema=None))
    assert isinstance(outcome, AgentCallFailed), outcome
    assert peak < 4 * 1024 * 1024, f"peak {peak} bytes"  # was over 64 MiB: httpx decoded whole chunks
    assert f"Content-Encoding {encoding!r}" in str(outcome) and "only identity" in str(outcome)
    assert (outcome.attempts, outcome.status_code) == (1, 200)


def test_identity_content_encoding_is_accepted(agent: AgentServer) -> None:
    body = b'{"result": {}, "summary": "plain"}'
    result = call(agent.url("/raw?b64=" + urlsafe_b64encode(body).decode()), schema=OUTPUT_SCHEMA)
    assert result.output == {"result": {}, "summary": "plain"}


def raw_url(agent: AgentServer, body: bytes) -> str:
    return agent.url("/raw?b64=" + urlsafe_b64encode(body).decode())


@pytest.mark.parametrize("levels", [31, 256, 1000, 100_000])
def test_deeply_nested_answer_fails_the_call_with_the_reason(agent: AgentServer, levels: int) -> None:
    """``{"result": {"x": [...]}}``: two levels more than the list's own (1000 was a RecursionError that escaped)."""
    settings = SETTINGS.model_copy(update={"agent_max_response_bytes": 256 * 1024})
    error = failure(agent.url(f"/deep?levels={levels}"), settings=settings)
    assert "agent answer is nested deeper than 32 levels" in str(error)
    assert error.attempts == 1


def test_answer_at_the_depth_limit_is_accepted(agent: AgentServer) -> None:
    inner = b"[" * 30 + b"]" * 30  # {result: {x: [...30]}} is 32 levels
    body = b'{"result": {"x": ' + inner + b'}, "summary": "deep enough"}'
    assert call(raw_url(agent, body)).output["summary"] == "deep enough"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"result": {}, "summary": "\xff\xfe bad utf-8"}', "not JSON"),
        (b"[1, 2, 3]", "not a JSON object"),
        (b'"just a string"', "not a JSON object"),
        (b"", "not JSON"),
        (b'{"result": {"n": 1' + b"0" * 5000 + b'}, "summary": "x"}', "not JSON"),
        (b'{"result": {"n": NaN}, "summary": "x"}', "NaN or Infinity"),
        (b'{"result": {"n": 1e999}, "summary": "x"}', "NaN or Infinity"),
        (b'{"result": {"s": "\\ud800"}, "summary": "x"}', "unpaired surrogate"),
    ],
    ids=["invalid-utf8", "array", "string", "empty", "huge-int", "nan", "overflow", "lone-surrogate"],
)
def test_bad_answers_fail_the_call_with_an_agent_call_error(agent: AgentServer, body: bytes, reason: str) -> None:
    error = failure(raw_url(agent, body), schema=None)
    assert reason in str(error)
    assert error.attempts == 1


SELF_REF: dict[str, Any] = {"$ref": "#"}
LOOP: dict[str, Any] = {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}
DEEP_SCHEMA: dict[str, Any] = {}
_cursor = DEEP_SCHEMA
for _ in range(2000):
    _cursor["items"] = {}
    _cursor = _cursor["items"]


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        (SELF_REF, "outputSchema could not be applied"),
        (LOOP, "outputSchema could not be applied"),
        (DEEP_SCHEMA, "outputSchema"),
        ({"$ref": "https://schemas.example.com/out.json"}, "outputSchema could not be applied"),
        ({"$ref": "#/nowhere"}, "outputSchema could not be applied"),
        ({"$schema": 5}, "outputSchema"),
        ({"properties": {"summary": {"pattern": "("}}}, "outputSchema is invalid"),
    ],
    ids=["self-ref", "ref-loop", "deep", "remote-ref", "dangling-ref", "bad-dialect", "bad-regex"],
)
def test_unusable_output_schema_fails_the_call_with_an_agent_call_error(
    agent: AgentServer, schema: dict[str, Any], reason: str
) -> None:
    error = failure(agent.url("/fast?t=bad-schema"), schema=schema)
    assert reason in str(error)
    assert error.attempts == 1


class _SchemaHost(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.fetched.append(self.path)  # type: ignore[attr-defined]
        body = b'{"type": "object"}'
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log."""


def test_a_remote_ref_in_the_output_schema_is_never_fetched(agent: AgentServer) -> None:
    """jsonschema's default would GET any ``$ref`` URL, unguarded: an SSRF through the agent's own schema."""
    server = LoopbackServer(("127.0.0.1", 0), _SchemaHost)
    server.fetched = []  # type: ignore[attr-defined]
    with BackgroundServer(server, name="schema-host") as host:
        schema = {"$ref": f"http://127.0.0.1:{host.port}/schema.json"}
        error = failure(agent.url("/fast?t=remote-ref"), schema=schema)
    assert "outputSchema could not be applied" in str(error) and "Unresolvable" in str(error)
    assert server.fetched == []  # type: ignore[attr-defined]


# --- the function's deadline ---------------------------------------------------------------------------


def call_by(url: str, deadline_in: float, *, timeout: float = 5.0, settings: Settings = SETTINGS) -> AgentCallResult:
    async def go() -> AgentCallResult:
        async with new_http_client(settings) as client:
            target = AgentTarget("agent-1", url, SECRET, timeout, OUTPUT_SCHEMA)
            deadline = time.monotonic() + deadline_in
            try:
                return await call_agent(client, target, PAYLOAD, settings=settings, message_id="m", deadline=deadline)
            except AgentCallFailed as exc:
                exc.add_note(f"{deadline - time.monotonic():.3f}")  # seconds left when it gave up
                raise

    return asyncio.run(go())


def failure_by(url: str, deadline_in: float, **kwargs: Any) -> tuple[AgentCallFailed, float]:
    """The failure and the seconds that were left before the deadline when the call gave up."""
    with pytest.raises(AgentCallFailed) as info:
        call_by(url, deadline_in, **kwargs)
    return info.value, float(info.value.__notes__[-1])


def test_no_deadline_keeps_the_full_retry_budget(agent: AgentServer) -> None:
    result = call(agent.url("/status?code=503&times=2&t=no-deadline"))
    assert result.attempts == 3


def test_a_generous_deadline_changes_nothing(agent: AgentServer) -> None:
    result = call_by(agent.url("/status?code=503&times=2&t=generous"), 60)
    assert result.attempts == 3


def test_a_slow_agent_is_cut_short_by_the_deadline_not_its_own_timeout(agent: AgentServer) -> None:
    error, left = failure_by(agent.url("/slow?seconds=30&t=deadline-slow"), 2.5, timeout=30)
    assert "agent timed out after 2.2" in str(error) and "(cut short to fit the function's deadline)" in str(error)
    assert error.attempts == 1
    assert left > 0  # gave up before the deadline, not at the agent's 30 s timeout
    assert len(agent.requests_to("/slow?seconds=30&t=deadline-slow")) == 1


def test_a_retry_after_that_crosses_the_deadline_is_not_slept(agent: AgentServer) -> None:
    path = "/status?code=429&times=9&retry_after=10&t=deadline-429"
    error, left = failure_by(agent.url(path), 4)
    assert str(error) == (
        "agent rate-limited the call (HTTP 429); "
        "no time left for another try before the function's deadline (after 1 attempt)"
    )
    assert (error.attempts, error.status_code) == (1, 429)
    assert left > 2  # the 10 s Retry-After was not slept
    assert len(agent.requests_to(path)) == 1


def test_503_retries_stop_when_the_next_try_cannot_fit(agent: AgentServer) -> None:
    """Retry-After 1 s, 3 s to the deadline: tries at 0 s and 1 s; one at 2 s would leave under a second."""
    settings = SETTINGS.model_copy(update={"agent_max_retries": 5})
    path = "/status?code=503&times=99&retry_after=1&t=deadline-503"
    error, left = failure_by(agent.url(path), 3, settings=settings)
    assert str(error) == (
        "agent error (HTTP 503); no time left for another try before the function's deadline (after 2 attempts)"
    )
    assert (error.attempts, error.status_code) == (2, 503)
    assert left > 1
    assert len(agent.requests_to(path)) == 2


def test_a_5xx_retry_after_is_honoured_only_up_to_the_cap(agent: AgentServer) -> None:
    """Retry-After 3600 on a 503 falls back to the short backoff (honouring it would not fit the deadline)."""
    result = call_by(agent.url("/status?code=503&times=1&retry_after=3600&t=503-long"), 10)
    assert result.attempts == 2


def test_a_deadline_already_too_close_calls_nothing(agent: AgentServer) -> None:
    error, left = failure_by(agent.url("/fast?t=deadline-gone"), 0.5)
    assert str(error) == "no time left to call the agent before the function's deadline"
    assert error.attempts == 0
    assert left > 0
    assert agent.requests_to("/fast?t=deadline-gone") == []


def test_no_schema_check_of_ours_fetches_a_remote_ref() -> None:
    """The inputs of a job, the judge's auto-assign check and the onboarding sample all apply agents' schemas:
    one untrusted validator serves them, so none follows a remote ``$ref`` (it is a problem, not a request)."""
    from agent_jobs.domain.onboarding import NoSample, sample_input
    from agent_jobs.domain.schemas import schema_errors
    from agent_jobs.integrations.judge import _schema_error

    server = LoopbackServer(("127.0.0.1", 0), _SchemaHost)
    server.fetched = []  # type: ignore[attr-defined]
    with BackgroundServer(server, name="schema-host") as host:
        schema = {"type": "object", "properties": {"a": {"$ref": f"http://127.0.0.1:{host.port}/schema.json"}}}
        assert "cannot be applied" in schema_errors({"a": 1}, schema)[0]
        assert "cannot be applied" in (_schema_error(schema, {"a": 1}) or "")
        with pytest.raises(NoSample, match="cannot be applied"):
            sample_input({**schema, "required": ["a"]})
    assert server.fetched == []  # type: ignore[attr-defined]
