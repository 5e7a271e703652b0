"""Call one agent endpoint: SSRF-guarded, signed, time-boxed, retried, size-capped, schema-checked.

Retry policy (per call, ``settings.agent_max_retries`` extra attempts, full-jitter backoff):

- retried: connect errors and connect timeouts (nothing reached the agent), a host that
  does not resolve, 429 (``Retry-After`` honoured up to ``RETRY_AFTER_CAP_SECONDS``) and 5xx;
- not retried: a timeout after the request was sent. The agent may still be working on it;
  calling again would run the work twice and multiply the time spent (the attempt counts,
  the call fails with "timed out"; the job-level retry decides what happens next);
- never retried: redirects, other 4xx, unsafe URLs or peers, oversize / non-JSON /
  off-schema answers.

Every attempt re-checks the URL and signs afresh (same ``webhook-id``, new timestamp), and
the connection's peer address is checked when the TCP connection is made, before any
byte of the request is sent.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from jsonschema import Draft202012Validator, SchemaError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

from agent_jobs.errors import AgentCallError, UnsafeUrlError
from agent_jobs.integrations.signing import sign_headers
from agent_jobs.integrations.ssrf import UnresolvableHostError, check_url, is_public_address
from agent_jobs.observability import logger
from agent_jobs.settings import Settings

RETRY_AFTER_CAP_SECONDS = 20.0
MAX_BACKOFF_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 10.0
USER_AGENT = "agent-jobs/1 (+standard-webhooks)"

_rng = random.SystemRandom()


@dataclass(frozen=True, slots=True)
class AgentTarget:
    """Where and how to call one agent. The secret never shows in ``repr``."""

    agent_id: str
    endpoint_url: str
    secret: str = field(repr=False)
    timeout_seconds: float
    output_schema: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class AgentCallResult:
    """A usable answer. ``latency_ms`` is the successful attempt's; ``attempts`` counts all."""

    output: dict[str, Any]
    status_code: int
    latency_ms: float
    attempts: int


class AgentCallFailed(AgentCallError):
    """``AgentCallError`` with the attempt count and the last HTTP status (if any)."""

    def __init__(self, reason: str, *, attempts: int, status_code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts = attempts
        self.status_code = status_code


class _AttemptFailed(Exception):
    def __init__(
        self,
        reason: str,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
        self.status_code = status_code


def new_http_client(settings: Settings) -> httpx.AsyncClient:
    """One pooled client for agent calls: no redirects, no proxies from the environment."""
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(
            settings.agent_default_timeout_seconds,
            connect=min(CONNECT_TIMEOUT_SECONDS, settings.agent_default_timeout_seconds),
        ),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=30.0),
        headers={"user-agent": USER_AGENT},
    )


async def call_agent(
    client: httpx.AsyncClient,
    target: AgentTarget,
    payload: dict[str, Any],
    *,
    settings: Settings,
    message_id: str,
) -> AgentCallResult:
    """POST ``payload`` to the agent and return its validated JSON answer, or raise ``AgentCallFailed``."""
    timeout = min(target.timeout_seconds, settings.agent_max_timeout_seconds)
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    max_attempts = settings.agent_max_retries + 1
    last: _AttemptFailed | None = None
    for attempt in range(1, max_attempts + 1):
        started = time.perf_counter()
        try:
            status, output = await _attempt(
                client, target, body, settings=settings, message_id=message_id, timeout=timeout
            )
            _validate_output(output, target.output_schema)
        except _AttemptFailed as exc:
            last = exc
            _log_attempt(target, attempt, started, exc.status_code, exc.reason)
            if not exc.retryable:
                raise AgentCallFailed(
                    _with_attempts(exc.reason, attempt), attempts=attempt, status_code=exc.status_code
                ) from None
            if attempt < max_attempts:
                await asyncio.sleep(_delay(exc.retry_after, settings.agent_retry_base_seconds, attempt))
            continue
        latency_ms = (time.perf_counter() - started) * 1000
        _log_attempt(target, attempt, started, status, None)
        return AgentCallResult(output=output, status_code=status, latency_ms=latency_ms, attempts=attempt)
    assert last is not None
    raise AgentCallFailed(
        _with_attempts(last.reason, max_attempts), attempts=max_attempts, status_code=last.status_code
    )


def _with_attempts(reason: str, attempts: int) -> str:
    return f"{reason} (after {attempts} attempt{'s' if attempts != 1 else ''})"


def _delay(retry_after: float | None, base: float, attempt: int) -> float:
    if retry_after is not None:
        return retry_after
    return _rng.uniform(0, min(MAX_BACKOFF_SECONDS, base * 2 ** (attempt - 1)))


def _log_attempt(target: AgentTarget, attempt: int, started: float, status: int | None, error: str | None) -> None:
    log = logger.warning if error else logger.info
    log(
        "agent call failed" if error else "agent call succeeded",
        extra={
            "agent_id": target.agent_id,
            "agent_host": _host_of(target.endpoint_url),
            "attempt": attempt,
            "status_code": status,
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            "error": error,
        },
    )


def _host_of(url: str) -> str:
    """Scheme, host and port only: a URL's path or query may carry tokens."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return "<invalid url>"
    return f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")


async def _attempt(
    client: httpx.AsyncClient,
    target: AgentTarget,
    body: bytes,
    *,
    settings: Settings,
    message_id: str,
    timeout: float,
) -> tuple[int, dict[str, Any]]:
    allow_loopback = settings.allow_loopback_http_agents
    try:
        await asyncio.to_thread(check_url, target.endpoint_url, allow_loopback_http=allow_loopback)
    except UnresolvableHostError as exc:
        raise _AttemptFailed(f"cannot connect: {exc}", retryable=True) from None
    except UnsafeUrlError as exc:
        raise _AttemptFailed(f"unsafe agent URL: {exc}") from None
    try:
        headers = sign_headers(target.secret, body, msg_id=message_id, timestamp=int(time.time()))
    except ValueError as exc:
        raise _AttemptFailed(f"agent secret unusable: {exc}") from None
    headers.update({"content-type": "application/json", "accept": "application/json"})

    sent = False

    async def guard(event: str, info: dict[str, Any]) -> None:
        nonlocal sent
        if event == "connection.connect_tcp.complete":
            await _check_peer(info.get("return_value"), allow_loopback)
        elif event == "http11.send_request_headers.started":
            sent = True

    try:
        async with asyncio.timeout(timeout):
            async with client.stream(
                "POST",
                target.endpoint_url,
                content=body,
                headers=headers,
                timeout=httpx.Timeout(timeout, connect=min(CONNECT_TIMEOUT_SECONDS, timeout)),
                extensions={"trace": guard},
            ) as response:
                await _check_peer(response.extensions.get("network_stream"), allow_loopback)
                return response.status_code, await _read_answer(response, settings.agent_max_response_bytes)
    except UnsafeUrlError as exc:
        raise _AttemptFailed(f"unsafe agent address: {exc}") from None
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise _AttemptFailed(f"cannot connect: {type(exc).__name__}", retryable=True) from None
    except (TimeoutError, httpx.TimeoutException):
        if not sent:
            raise _AttemptFailed(f"cannot connect within {timeout:g}s", retryable=True) from None
        raise _AttemptFailed(f"agent timed out after {timeout:g}s") from None
    except httpx.HTTPError as exc:
        raise _AttemptFailed(f"transport error: {type(exc).__name__}") from None


async def _check_peer(stream: Any, allow_loopback: bool) -> None:
    """Refuse a connection whose remote address is not public (closing it first)."""
    if stream is None or not hasattr(stream, "get_extra_info"):
        return
    addr = stream.get_extra_info("server_addr")
    if not addr:
        return
    if not is_public_address(str(addr[0]), allow_loopback=allow_loopback):
        if hasattr(stream, "aclose"):
            await stream.aclose()
        raise UnsafeUrlError(f"connected to a non-public address ({addr[0]})")


async def _read_answer(response: httpx.Response, cap: int) -> dict[str, Any]:
    status = response.status_code
    if 300 <= status < 400:
        raise _AttemptFailed(f"redirect refused (HTTP {status})", status_code=status)
    if status == 429:
        retry_after = _retry_after(response.headers.get("retry-after"))
        if retry_after is not None and retry_after > RETRY_AFTER_CAP_SECONDS:
            raise _AttemptFailed(
                f"agent rate-limited the call (Retry-After {retry_after:g}s is too long)", status_code=status
            )
        raise _AttemptFailed(
            "agent rate-limited the call (HTTP 429)",
            retryable=True,
            retry_after=retry_after,
            status_code=status,
        )
    if status >= 500:
        raise _AttemptFailed(f"agent error (HTTP {status})", retryable=True, status_code=status)
    if not 200 <= status < 300:
        raise _AttemptFailed(f"agent refused the call (HTTP {status})", status_code=status)

    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise _AttemptFailed(f"response too large (over {cap} bytes)", status_code=status)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > cap:
            raise _AttemptFailed(f"response too large (over {cap} bytes)", status_code=status)
        chunks.append(chunk)
    try:
        output = json.loads(b"".join(chunks))
    except (UnicodeDecodeError, ValueError):
        raise _AttemptFailed("agent answer is not JSON", status_code=status) from None
    if not isinstance(output, dict):
        raise _AttemptFailed("agent answer is not a JSON object", status_code=status)
    return output


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds, non-standard floats, or an HTTP date)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _validate_output(output: dict[str, Any], schema: dict[str, Any] | None) -> None:
    if not schema:
        return
    cls = validator_for(schema, default=Draft202012Validator)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        raise _AttemptFailed(f"the agent's outputSchema is invalid: {exc.message}") from None
    error = best_match(cls(schema).iter_errors(output))
    if error is not None:
        message = error.message if len(error.message) <= 200 else error.message[:200] + "…"
        raise _AttemptFailed(f"output does not match outputSchema at {error.json_path}: {message}")
