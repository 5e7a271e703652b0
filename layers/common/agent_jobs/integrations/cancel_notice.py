"""Tells an agent that a job it works on was cancelled (DESIGN.md §14): a signed ``POST cancelUrl``
``{jobId, attempt, reason}``, Standard Webhooks headers with the agent's own secret.

Best effort by design: the cancel is already written when this runs, so nothing here raises, one try only
with a short timeout, and the caller only logs what happened. The SSRF guard is the agent call's: the URL
is checked before the request (https to public addresses; loopback http only where the setting allows it),
the connected peer is checked again before anything is sent, redirects are not followed and the answer is not read."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from agent_jobs.errors import UnsafeUrlError
from agent_jobs.integrations.signing import sign_headers
from agent_jobs.integrations.ssrf import check_url, is_public_address

TIMEOUT_SECONDS = 3.0  # the cancel request waits at most this for the agent


@dataclass(frozen=True)
class CancelNotice:
    url: str
    secret: str
    job_id: str
    attempt: int
    reason: str | None


def notify(notice: CancelNotice, *, allow_loopback: bool, timeout: float = TIMEOUT_SECONDS) -> str:
    """Sends the notice; what happened, in words fit for the job's log (never the URL: it may carry a token)."""
    import httpx

    body = json.dumps(
        {"jobId": notice.job_id, "attempt": notice.attempt, "reason": notice.reason}, separators=(",", ":")
    ).encode()
    try:
        check_url(notice.url, allow_loopback_http=allow_loopback)
        headers = sign_headers(
            notice.secret, body, msg_id=f"{notice.job_id}-{notice.attempt}-cancel", timestamp=int(time.time())
        )
        headers.update({"content-type": "application/json", "accept-encoding": "identity"})

        def guard(event: str, info: dict[str, Any]) -> None:  # before a byte is sent
            if event == "connection.connect_tcp.complete":
                _check_peer(info.get("return_value"), allow_loopback)

        with (
            httpx.Client(follow_redirects=False, trust_env=False, timeout=timeout) as client,
            client.stream("POST", notice.url, content=body, headers=headers, extensions={"trace": guard}) as response,
        ):
            return f"the agent was told (HTTP {response.status_code})"
    except UnsafeUrlError as exc:
        return f"the agent was not told: unsafe cancelUrl ({exc.message})"
    except httpx.HTTPError as exc:
        return f"the agent was not told: {type(exc).__name__}"
    except ValueError as exc:  # an unusable secret
        return f"the agent was not told: {exc}"


def _check_peer(stream: Any, allow_loopback: bool) -> None:
    """Refuse an answer from a non-public address (DNS rebinding between the check and the connect)."""
    addr = stream.get_extra_info("server_addr") if stream is not None and hasattr(stream, "get_extra_info") else None
    if addr and not is_public_address(str(addr[0]), allow_loopback=allow_loopback):
        raise UnsafeUrlError(f"connected to a non-public address ({addr[0]})")
