"""Which URLs the CLI sends a password, a secret or a token to: https, or plain http to this machine only.

The local stack listens on 127.0.0.1 over http; anything else crosses a network, where a bearer token or a
password in clear text is a stolen one. The API's own config (``/admin/config.json``) names the sign-in and
real-time endpoints, so they are checked as strictly as the ``--api`` the user typed.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from agent_jobs_cli.outcomes import UsageError

LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_secure(url: str, what: str, *, secure: str = "https", plain: str = "http") -> str:
    """``url`` unchanged when it may carry credentials; a UsageError naming ``what`` otherwise."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == secure and host:
        return url
    if parts.scheme == plain and is_loopback(host):
        return url
    raise UsageError(f"{what} {url!r}: credentials go over {secure}:// only ({plain}:// to this machine is fine)")


def realtime_url(api: str, configured: str | None) -> str:
    """The WebSocket of the API: the one its config names, else ``ws(s)://<API host>/api/realtime``."""
    if configured:
        return configured.rstrip("/")
    parts = urlsplit(api)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}/api/realtime"
