"""Fetching an A2A agent card by URL: the SSRF guard on the URL and on the connected peer, no redirects, no
proxies from the environment, a short timeout, a size cap counted on the wire (``identity`` only) and a JSON
depth cap — a card URL is as untrusted as an agent's answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent_jobs.errors import BadRequest, UnsafeUrlError
from agent_jobs.integrations.ssrf import check_url, is_public_address
from agent_jobs.models.base import TooDeep, loads_bounded

if TYPE_CHECKING:  # httpx is imported where it is used: a cold start that does not need it skips it
    import httpx

MAX_CARD_BYTES = 64 * 1024
FETCH_TIMEOUT_SECONDS = 5.0
FIELD = "cardUrl"


def _check_peer(response: httpx.Response, allow_loopback: bool) -> None:
    stream = response.extensions.get("network_stream")
    addr = stream.get_extra_info("server_addr") if stream is not None and hasattr(stream, "get_extra_info") else None
    if addr and not is_public_address(str(addr[0]), allow_loopback=allow_loopback):
        raise UnsafeUrlError(f"{FIELD}: connected to a non-public address ({addr[0]})", field=FIELD)


def _read(response: httpx.Response) -> bytes:
    if response.is_redirect:
        raise BadRequest(f"{FIELD}: redirect refused (HTTP {response.status_code})", field=FIELD)
    if response.status_code != 200:
        raise BadRequest(f"{FIELD}: the card server answered HTTP {response.status_code}", field=FIELD)
    if response.headers.get("content-encoding", "identity").lower() not in ("", "identity"):
        raise BadRequest(f"{FIELD}: encoded answers are refused (identity only)", field=FIELD)
    body = bytearray()
    for chunk in response.iter_raw():
        body += chunk
        if len(body) > MAX_CARD_BYTES:
            raise BadRequest(f"{FIELD}: the card is larger than {MAX_CARD_BYTES // 1024} KB", field=FIELD)
    return bytes(body)


def fetch_card(url: str, *, allow_loopback: bool = False) -> dict[str, Any]:
    """The card at ``url`` as a JSON object, or 400 naming ``cardUrl`` with the reason."""
    import httpx

    try:
        check_url(url, allow_loopback_http=allow_loopback)
    except UnsafeUrlError as exc:
        raise UnsafeUrlError(f"{FIELD}: {exc.message}", field=FIELD) from exc
    try:
        with (
            httpx.Client(follow_redirects=False, trust_env=False, timeout=FETCH_TIMEOUT_SECONDS) as client,
            client.stream(
                "GET", url, headers={"accept": "application/json", "accept-encoding": "identity"}
            ) as response,
        ):
            _check_peer(response, allow_loopback)
            raw = _read(response)
    except httpx.HTTPError as exc:
        raise BadRequest(f"{FIELD}: cannot fetch the card ({type(exc).__name__})", field=FIELD) from None
    try:
        card = loads_bounded(raw)
    except TooDeep as exc:
        raise BadRequest(f"{FIELD}: {exc}", field=FIELD) from None
    except ValueError:
        raise BadRequest(f"{FIELD}: the card is not JSON", field=FIELD) from None
    if not isinstance(card, dict):
        raise BadRequest(f"{FIELD}: the card is not a JSON object", field=FIELD)
    return card
