"""SSRF guard for outbound agent calls: https to public addresses only.

``check_url`` vets a URL before a request; ``is_public_address`` vets the address a
connection actually reached (the agent client checks both, so DNS rebinding between the
check and the connect is caught too).

"Public" is decided from the IANA special-purpose address registries written out below, not
only from the ``ipaddress`` flags: those changed between Python patch releases (3.12.1 calls
``fec0::/10`` and ``3fff::/20`` global), and the guard must not depend on the runtime's.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

from agent_jobs.errors import UnsafeUrlError

Resolver = Callable[[str, int], list[str]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64 prefix: judged by the IPv4 address inside
_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")  # all IPv6 outside it is refused, e.g. ::/8 (unspecified,
# loopback, IPv4-compatible), 64:ff9b:1::/48 (local NAT64), 100::/64 (discard), 5f00::/16 (SRv6),
# fc00::/7 (unique local), fe80::/10 (link-local), fec0::/10 (site-local), ff00::/8 (multicast)
_NOT_PUBLIC_V6 = tuple(
    ipaddress.ip_network(net)
    for net in (
        "2001::/23",  # IETF protocol assignments: Teredo, benchmarking 2001:2::/48, ORCHID
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation (RFC 9637)
    )
)
_NOT_PUBLIC_V4 = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # carrier-grade NAT (shared address space)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, the cloud metadata service
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation (TEST-NET-1)
        "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation (TEST-NET-2)
        "203.0.113.0/24",  # documentation (TEST-NET-3)
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the limited broadcast address
    )
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


class UnresolvableHostError(UnsafeUrlError):
    """The host name does not resolve (may be transient: callers may retry)."""


def system_resolve(host: str, port: int) -> list[str]:
    """Every address ``getaddrinfo`` gives for a TCP connection to ``host:port``."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvableHostError(f"host {host!r} does not resolve") from exc
    return [str(info[4][0]) for info in infos]


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def _is_loopback(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return inner.is_loopback
    return ip.is_loopback


def _in_special_range(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv4Address):
        return any(ip in net for net in _NOT_PUBLIC_V4)
    return ip not in _GLOBAL_UNICAST or any(ip in net for net in _NOT_PUBLIC_V6)


def _is_global(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return _is_global(inner)
    return (
        not _in_special_range(ip)
        and ip.is_global
        and not ip.is_private
        and not ip.is_loopback
        and not ip.is_link_local
        and not ip.is_multicast
        and not ip.is_reserved
        and not ip.is_unspecified
    )


def _parse_ip(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(ip.strip("[]"))
    except ValueError:
        return None


def is_public_address(ip: str, allow_loopback: bool = False) -> bool:
    """True if ``ip`` is a global unicast address (or loopback, when ``allow_loopback``)."""
    addr = _parse_ip(ip)
    if addr is None:
        return False
    if allow_loopback and _is_loopback(addr):
        return True
    return _is_global(addr)


def _is_loopback_host(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    addr = _parse_ip(host)
    return addr is not None and _is_loopback(addr)


def check_url(url: str, *, allow_loopback_http: bool = False, resolve: Resolver | None = None) -> None:
    """Raise ``UnsafeUrlError`` unless ``url`` is safe to call from inside the platform.

    https only (http to a loopback host only when ``allow_loopback_http``), no userinfo,
    and every address the host resolves to must be public (loopback allowed under the
    same local-only setting).
    """
    import httpx

    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise UnsafeUrlError(f"not a valid URL: {exc}") from exc
    scheme, host = parsed.scheme, parsed.host
    if not host:
        raise UnsafeUrlError("URL has no host")
    if parsed.userinfo:
        raise UnsafeUrlError("URL must not contain credentials (userinfo)")
    if scheme == "http":
        if not (allow_loopback_http and _is_loopback_host(host)):
            raise UnsafeUrlError("URL scheme must be https (http only to loopback in the local stack)")
    elif scheme != "https":
        raise UnsafeUrlError(f"URL scheme {scheme!r} is not allowed: https only")

    port = parsed.port or _DEFAULT_PORTS[scheme]
    addresses = (resolve or system_resolve)(host, port)
    if not addresses:
        raise UnresolvableHostError(f"host {host!r} does not resolve")
    for address in addresses:
        if not is_public_address(address, allow_loopback=allow_loopback_http):
            raise UnsafeUrlError(f"host {host!r} resolves to a non-public address ({address})")
