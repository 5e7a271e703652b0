"""One webhook POST: SSRF-guarded (the URL before, the connected peer during), signed with Standard Webhooks
(``webhook-id`` = the event id, a fresh timestamp per try), ``identity`` encoding, a short timeout, no redirects,
and at most a few KB of the answer read (and thrown away). It says what happened; the caller decides about
retries (``domain/webhook_delivery.py``)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from agent_jobs.errors import UnsafeUrlError
from agent_jobs.integrations.agent_client import USER_AGENT
from agent_jobs.integrations.signing import sign_headers
from agent_jobs.integrations.ssrf import UnresolvableHostError, check_url, is_public_address

if TYPE_CHECKING:  # httpx is imported where it is used: a cold start that does not need it skips it
    import httpx

MAX_ANSWER_BYTES = 4096  # a receiver's answer is not used: read a little (so keep-alive works), drop the rest
CONNECT_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    latency_ms: float
    error: str | None = None  # None: delivered (2xx)
    retryable: bool = False  # a timeout, a connect error, 429 or 5xx: worth another try later
    retry_after: float | None = None  # seconds, from a 429/503's Retry-After

    @property
    def delivered(self) -> bool:
        return self.error is None


@cache
def http_client() -> httpx.Client:
    """One pooled client per process: no redirects, no proxies from the environment."""
    import httpx

    return httpx.Client(follow_redirects=False, trust_env=False, headers={"user-agent": USER_AGENT})


class _UnsafePeer(Exception):
    pass


def _peer_guard(allow_loopback: bool) -> Any:
    def guard(event: str, info: dict[str, Any]) -> None:
        if event == "connection.connect_tcp.complete":
            stream = info.get("return_value")
            addr = stream.get_extra_info("server_addr") if stream is not None else None
            if addr and not is_public_address(str(addr[0]), allow_loopback=allow_loopback):
                raise _UnsafePeer(f"connected to a non-public address ({addr[0]})")

    return guard


def _retry_after(value: str | None) -> float | None:
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    return seconds if seconds is not None and math.isfinite(seconds) and seconds >= 0 else None


def _classify(response: httpx.Response, latency_ms: float) -> SendResult:
    status = response.status_code
    if 200 <= status < 300:
        return SendResult(status, latency_ms)
    if status == 429 or status >= 500:
        retry_after = _retry_after(response.headers.get("retry-after"))
        return SendResult(status, latency_ms, f"receiver answered HTTP {status}", True, retry_after)
    if 300 <= status < 400:
        return SendResult(status, latency_ms, f"redirect refused (HTTP {status})")
    return SendResult(status, latency_ms, f"receiver refused the delivery (HTTP {status})")


def send(
    url: str,
    secret: str,
    body: bytes,
    *,
    message_id: str,
    timeout_seconds: float,
    allow_loopback: bool,
    client: httpx.Client | None = None,
) -> SendResult:
    import httpx

    started = time.perf_counter()

    def took() -> float:
        return round((time.perf_counter() - started) * 1000, 1)

    try:
        check_url(url, allow_loopback_http=allow_loopback)
        headers = sign_headers(secret, body, msg_id=message_id, timestamp=int(time.time()))
        headers.update({"content-type": "application/json", "accept-encoding": "identity"})
        timeout = httpx.Timeout(timeout_seconds, connect=min(CONNECT_TIMEOUT_SECONDS, timeout_seconds))
        with (client or http_client()).stream(
            "POST",
            url,
            content=body,
            headers=headers,
            timeout=timeout,
            extensions={"trace": _peer_guard(allow_loopback)},
        ) as response:
            read = 0
            for chunk in response.iter_raw():
                read += len(chunk)
                if read >= MAX_ANSWER_BYTES:
                    break
            return _classify(response, took())
    except UnresolvableHostError as exc:
        return SendResult(None, took(), f"cannot connect: {exc.message}", retryable=True)
    except (UnsafeUrlError, _UnsafePeer) as exc:
        return SendResult(None, took(), f"unsafe webhook address: {exc}")
    except httpx.TimeoutException:
        return SendResult(None, took(), f"timed out after {timeout_seconds:g}s", retryable=True)
    except httpx.TransportError as exc:
        if isinstance(exc.__cause__, _UnsafePeer) or isinstance(exc.__context__, _UnsafePeer):
            return SendResult(None, took(), f"unsafe webhook address: {exc.__cause__ or exc.__context__}")
        return SendResult(None, took(), f"cannot connect: {type(exc).__name__}", retryable=True)
    except ValueError as exc:  # an unusable secret
        return SendResult(None, took(), f"cannot sign: {exc}")
