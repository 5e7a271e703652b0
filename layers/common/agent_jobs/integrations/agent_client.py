"""Call one agent endpoint: SSRF-guarded, signed, time-boxed, retried, size-capped, schema-checked.

Retry policy (per call, ``settings.agent_max_retries`` extra attempts, full-jitter backoff):

- retried: connect errors and connect timeouts (nothing reached the agent), a host that
  does not resolve, 429 and 5xx (``Retry-After`` honoured up to ``RETRY_AFTER_CAP_SECONDS``);
- not retried: a timeout after the request was sent. The agent may still be working on it;
  calling again would run the work twice and multiply the time spent (the attempt counts,
  the call fails with "timed out"; the job-level retry decides what happens next);
- never retried: redirects, other 4xx, unsafe URLs or peers, oversize / compressed / non-JSON /
  too deeply nested / off-schema answers.

An async agent (``AgentTarget.accepts_async``) may answer **202 Accepted** instead of its output
(DESIGN.md §14): the call returns ``accepted=True`` and the output arrives later by signed callback. A 202
from an agent registered as sync is refused: it would park a job that nobody will call back.

A ``deadline`` (the invoking function's, as a ``time.monotonic()`` instant) bounds the whole
call: each try gets at most the time left, and a try or a backoff that cannot fit is not
started, so the call fails with that reason while the function can still record it.

The answer is read as raw bytes with ``identity`` asked for: a compressed answer is refused
unread (a few KB of ``gzip, gzip`` decodes to gigabytes), so memory stays bounded by the cap.

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
from typing import TYPE_CHECKING, Any

from agent_jobs.domain.schemas import untrusted_validator
from agent_jobs.errors import AgentCallError, UnsafeUrlError
from agent_jobs.integrations.signing import sign_headers
from agent_jobs.integrations.ssrf import UnresolvableHostError, check_url, is_public_address
from agent_jobs.models.base import MAX_JSON_DEPTH, TooDeep, loads_bounded
from agent_jobs.observability import logger
from agent_jobs.settings import Settings

if TYPE_CHECKING:  # httpx is imported where it is used: a cold start that does not need it skips it
    import httpx

RETRY_AFTER_CAP_SECONDS = 20.0
MAX_BACKOFF_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 10.0
DEADLINE_MARGIN_SECONDS = 0.25  # kept back from the deadline: parse, check and log the last answer
MIN_TRY_SECONDS = 1.0  # a try with less time than this left is not started
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
    accepts_async: bool = False  # an async agent: 202 Accepted is an answer (the output comes by callback)


@dataclass(frozen=True, slots=True)
class AgentCallResult:
    """A usable answer. ``latency_ms`` is the successful attempt's; ``attempts`` counts all."""

    output: dict[str, Any]
    status_code: int
    latency_ms: float
    attempts: int
    accepted: bool = False  # 202: an async agent took the job; ``output`` is empty until its callback


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
    import httpx

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
    deadline: float | None = None,
) -> AgentCallResult:
    """POST ``payload`` to the agent and return its validated JSON answer, or raise ``AgentCallFailed``.

    ``deadline`` is the ``time.monotonic()`` instant by which the call must have returned (None:
    no limit): the invoking function passes its own, so a slow or failing agent FAILs the job
    with the real reason instead of the function being killed mid-call.
    """
    agent_timeout = min(target.timeout_seconds, settings.agent_max_timeout_seconds)
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    max_attempts = settings.agent_max_retries + 1
    last: _AttemptFailed | None = None
    for attempt in range(1, max_attempts + 1):
        timeout = _time_for_a_try(deadline, agent_timeout)
        if timeout is None:
            raise _out_of_time(last, attempt - 1)
        started = time.perf_counter()
        try:
            status, output = await _attempt(
                client,
                target,
                body,
                settings=settings,
                message_id=message_id,
                timeout=timeout,
                cut_short=timeout < agent_timeout,
            )
            if output is None:
                _accepted(target, status)
            else:
                _validate_output(output, target.output_schema)
        except _AttemptFailed as exc:
            last = exc
            _log_attempt(target, attempt, started, exc.status_code, exc.reason)
            if not exc.retryable:
                raise AgentCallFailed(
                    _with_attempts(exc.reason, attempt), attempts=attempt, status_code=exc.status_code
                ) from None
            if attempt < max_attempts:
                delay = _delay(exc.retry_after, settings.agent_retry_base_seconds, attempt)
                if _time_for_a_try(deadline, agent_timeout, after=delay) is None:
                    raise _out_of_time(last, attempt) from None
                await asyncio.sleep(delay)
            continue
        latency_ms = (time.perf_counter() - started) * 1000
        _log_attempt(target, attempt, started, status, None)
        return AgentCallResult(
            output=output or {}, status_code=status, latency_ms=latency_ms, attempts=attempt, accepted=output is None
        )
    assert last is not None
    raise AgentCallFailed(
        _with_attempts(last.reason, max_attempts), attempts=max_attempts, status_code=last.status_code
    )


def _accepted(target: AgentTarget, status: int) -> None:
    """A 202 is an answer only from an async agent."""
    if not target.accepts_async:
        raise _AttemptFailed(
            "agent answered 202 Accepted but is registered with mode sync (register it with mode async)",
            status_code=status,
        )


def _with_attempts(reason: str, attempts: int) -> str:
    return f"{reason} (after {attempts} attempt{'s' if attempts != 1 else ''})"


def _time_for_a_try(deadline: float | None, agent_timeout: float, *, after: float = 0.0) -> float | None:
    """The timeout of a try that starts ``after`` seconds from now, or None when it cannot fit the deadline."""
    if deadline is None:
        return agent_timeout
    left = deadline - time.monotonic() - after - DEADLINE_MARGIN_SECONDS
    return None if left < MIN_TRY_SECONDS else min(agent_timeout, left)


def _out_of_time(last: _AttemptFailed | None, attempts: int) -> AgentCallFailed:
    if last is None:
        return AgentCallFailed("no time left to call the agent before the function's deadline", attempts=attempts)
    reason = _with_attempts(f"{last.reason}; no time left for another try before the function's deadline", attempts)
    return AgentCallFailed(reason, attempts=attempts, status_code=last.status_code)


def _seconds(value: float) -> str:
    return f"{round(value, 2):g}s"


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
    import httpx

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
    cut_short: bool,
) -> tuple[int, dict[str, Any] | None]:
    """One try, DNS included, within ``timeout`` (``cut_short``: the deadline shortened the agent's own)."""
    import httpx

    allow_loopback = settings.allow_loopback_http_agents
    sent = False

    async def guard(event: str, info: dict[str, Any]) -> None:
        nonlocal sent
        if event == "connection.connect_tcp.complete":
            await _check_peer(info.get("return_value"), allow_loopback)
        elif event == "http11.send_request_headers.started":
            sent = True

    try:
        async with asyncio.timeout(timeout):
            await _check_url(target.endpoint_url, allow_loopback)
            headers = _signed_headers(target.secret, body, message_id)
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
            raise _AttemptFailed(f"cannot connect within {_seconds(timeout)}", retryable=True) from None
        why = " (cut short to fit the function's deadline)" if cut_short else ""
        raise _AttemptFailed(f"agent timed out after {_seconds(timeout)}{why}") from None
    except httpx.HTTPError as exc:
        raise _AttemptFailed(f"transport error: {type(exc).__name__}") from None


async def _check_url(url: str, allow_loopback: bool) -> None:
    try:
        await asyncio.to_thread(check_url, url, allow_loopback_http=allow_loopback)
    except UnresolvableHostError as exc:
        raise _AttemptFailed(f"cannot connect: {exc}", retryable=True) from None
    except UnsafeUrlError as exc:
        raise _AttemptFailed(f"unsafe agent URL: {exc}") from None


def _signed_headers(secret: str, body: bytes, message_id: str) -> dict[str, str]:
    """Fresh signature per try; ``identity`` only, so nothing the agent sends needs decoding."""
    try:
        headers = sign_headers(secret, body, msg_id=message_id, timestamp=int(time.time()))
    except ValueError as exc:
        raise _AttemptFailed(f"agent secret unusable: {exc}") from None
    headers.update({"content-type": "application/json", "accept": "application/json", "accept-encoding": "identity"})
    return headers


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


async def _read_answer(response: httpx.Response, cap: int) -> dict[str, Any] | None:
    """The answer's JSON object, or None for 202 Accepted (its body, read within the cap, is not the output)."""
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
        retry_after = _retry_after(response.headers.get("retry-after"))
        if retry_after is not None and retry_after > RETRY_AFTER_CAP_SECONDS:
            retry_after = None  # too long to wait for: the usual backoff
        raise _AttemptFailed(
            f"agent error (HTTP {status})", retryable=True, retry_after=retry_after, status_code=status
        )
    if not 200 <= status < 300:
        raise _AttemptFailed(f"agent refused the call (HTTP {status})", status_code=status)

    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding not in {"", "identity"}:
        raise _AttemptFailed(
            f"agent answer has Content-Encoding {encoding!r}: only identity is accepted", status_code=status
        )
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise _AttemptFailed(f"response too large (over {cap} bytes)", status_code=status)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():  # never decoded by httpx: the cap counts what arrives
        size += len(chunk)
        if size > cap:
            raise _AttemptFailed(f"response too large (over {cap} bytes)", status_code=status)
        chunks.append(chunk)
    if status == 202:
        return None
    return _parse_answer(b"".join(chunks), status)


def _parse_answer(raw: bytes, status: int) -> dict[str, Any]:
    """The answer as a JSON object we can store and pass on, or the reason it is not one."""
    try:
        output = loads_bounded(raw)
    except TooDeep:
        raise _AttemptFailed(
            f"agent answer is nested deeper than {MAX_JSON_DEPTH} levels", status_code=status
        ) from None
    except UnicodeDecodeError:
        raise _AttemptFailed("agent answer is not JSON (not valid UTF-8)", status_code=status) from None
    except json.JSONDecodeError as exc:
        raise _AttemptFailed(f"agent answer is not JSON ({exc.msg} at {exc.pos})", status_code=status) from None
    except ValueError:  # e.g. an integer longer than Python converts
        raise _AttemptFailed("agent answer is not JSON we can read", status_code=status) from None
    if not isinstance(output, dict):
        raise _AttemptFailed("agent answer is not a JSON object", status_code=status)
    try:  # what the judge, the tables and the API will do with it
        json.dumps(output, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        raise _AttemptFailed(
            "agent answer holds an unpaired surrogate (not valid Unicode)", status_code=status
        ) from None
    except ValueError:
        raise _AttemptFailed(
            "agent answer holds NaN or Infinity, which JSON cannot carry", status_code=status
        ) from None
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
    """Check ``output`` against the agent's schema; a schema that cannot be applied fails the call too.

    The schema is user data run through a third-party library: a ``$ref`` loop is a RecursionError,
    a dangling or remote ``$ref`` is Unresolvable (never fetched), an odd ``$schema`` an AttributeError.
    """
    if not schema:
        return
    from jsonschema import SchemaError
    from jsonschema.exceptions import best_match

    try:  # never fetches a "$ref" URL (SSRF)
        error = best_match(untrusted_validator(schema).iter_errors(output))
    except SchemaError as exc:
        raise _AttemptFailed(f"the agent's outputSchema is invalid: {_clip(exc.message)}") from None
    except Exception as exc:
        raise _AttemptFailed(
            f"the agent's outputSchema could not be applied ({type(exc).__name__}: {_clip(str(exc))})"
        ) from None
    if error is not None:
        raise _AttemptFailed(f"output does not match outputSchema at {error.json_path}: {_clip(error.message)}")


def output_problem(output: dict[str, Any], schema: dict[str, Any] | None) -> str | None:
    """Why ``output`` does not fit the agent's ``outputSchema`` (None: it does): the check a sync answer gets,
    for an output that arrived another way (an async agent's completion callback)."""
    try:
        _validate_output(output, schema)
    except _AttemptFailed as exc:
        return exc.reason
    return None


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
