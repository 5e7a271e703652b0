"""The SSRF guard: which outbound URLs and peer addresses are refused, and why."""

from __future__ import annotations

import ipaddress

import pytest

from agent_jobs.errors import UnsafeUrlError
from agent_jobs.integrations.ssrf import UnresolvableHostError, check_url, is_public_address

PUBLIC = "93.184.215.14"


class FakeDns:
    """A resolver that answers IP literals with themselves and names from ``table`` (no sockets)."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            return self.table.get(host, [])


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/hook", "non-public"),
        ("https://10.0.0.1/hook", "non-public"),
        ("https://169.254.169.254/latest/meta-data/", "non-public"),
        ("https://[::1]/hook", "non-public"),
        ("https://100.64.0.1/hook", "non-public"),
        ("https://192.168.1.10/hook", "non-public"),
        ("https://224.0.0.1/hook", "non-public"),
        ("https://240.0.0.1/hook", "non-public"),
        ("https://0.0.0.0/hook", "non-public"),
        ("https://[::ffff:10.0.0.1]/hook", "non-public"),
        ("https://[::ffff:169.254.169.254]/hook", "non-public"),
        ("https://[fe80::1]/hook", "non-public"),
        ("https://[fd00::1]/hook", "non-public"),
        ("http://example.com/hook", "https"),
        ("ftp://example.com/hook", "not allowed"),
        ("https://user:pw@example.com/hook", "credentials"),
        ("https:///nohost", "host"),
    ],
)
def test_refused(url: str, reason: str) -> None:
    with pytest.raises(UnsafeUrlError, match=reason):
        check_url(url, resolve=FakeDns({"example.com": [PUBLIC]}))


def test_loopback_http_refused_when_setting_off() -> None:
    with pytest.raises(UnsafeUrlError, match="https"):
        check_url("http://127.0.0.1:8080/hook", resolve=FakeDns({}))


def test_hostname_resolving_to_private_address_refused() -> None:
    dns = FakeDns({"agent.example.com": [PUBLIC, "10.1.2.3"]})
    with pytest.raises(UnsafeUrlError, match=r"10\.1\.2\.3"):
        check_url("https://agent.example.com/run", resolve=dns)


def test_hostname_resolving_to_metadata_address_refused() -> None:
    dns = FakeDns({"rebind.example.com": ["169.254.169.254"]})
    with pytest.raises(UnsafeUrlError, match="non-public"):
        check_url("https://rebind.example.com/", resolve=dns)


def test_public_https_allowed_and_resolved_with_the_right_port() -> None:
    dns = FakeDns({"agent.example.com": [PUBLIC, "2606:4700::6810:85e5"]})
    check_url("https://agent.example.com/run", resolve=dns)
    check_url("https://agent.example.com:8443/run", resolve=dns)
    assert dns.calls == [("agent.example.com", 443), ("agent.example.com", 8443)]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://[::1]:9000/", "http://localhost:8000/"])
def test_loopback_http_allowed_with_setting_on(url: str) -> None:
    check_url(url, allow_loopback_http=True, resolve=FakeDns({"localhost": ["127.0.0.1", "::1"]}))


def test_setting_on_still_refuses_http_to_other_hosts_and_private_addresses() -> None:
    dns = FakeDns({"example.com": [PUBLIC], "sneaky.example.com": ["127.0.0.1"]})
    with pytest.raises(UnsafeUrlError, match="https"):
        check_url("http://example.com/", allow_loopback_http=True, resolve=dns)
    with pytest.raises(UnsafeUrlError, match="https"):
        check_url("http://sneaky.example.com/", allow_loopback_http=True, resolve=dns)
    with pytest.raises(UnsafeUrlError, match="non-public"):
        check_url("https://10.0.0.1/", allow_loopback_http=True, resolve=dns)


def test_unresolvable_host_is_its_own_error() -> None:
    with pytest.raises(UnresolvableHostError, match="does not resolve"):
        check_url("https://nowhere.invalid/", resolve=FakeDns({}))


@pytest.mark.parametrize(
    ("ip", "allow_loopback", "expected"),
    [
        ("8.8.8.8", False, True),
        ("2606:4700::1", False, True),
        ("::ffff:8.8.8.8", False, True),
        ("127.0.0.1", False, False),
        ("127.0.0.1", True, True),
        ("::1", True, True),
        ("::ffff:127.0.0.1", True, True),
        ("10.0.0.1", True, False),
        ("169.254.169.254", True, False),
        ("100.64.0.1", False, False),
        ("64:ff9b::a00:1", False, False),
        ("2002:a00:1::", False, False),
        ("ff02::1", False, False),
        ("not-an-ip", False, False),
    ],
)
def test_is_public_address(ip: str, allow_loopback: bool, expected: bool) -> None:
    assert is_public_address(ip, allow_loopback) is expected


@pytest.mark.parametrize(
    "ip",
    [
        # missing before (passed the guard on Python 3.12.1)
        "fec0::1",  # site-local (deprecated, RFC 3879)
        "feff:ffff::1",  # the top of fec0::/10
        "3fff::1",  # documentation (RFC 9637)
        "3fff:fff:ffff::1",
        "192.0.0.9",  # IETF protocol assignments (192.0.0.0/24)
        "192.88.99.1",  # 6to4 relay anycast (deprecated)
        # already refused: kept refused whatever the runtime's ipaddress flags say
        "64:ff9b::a00:1",  # NAT64 to 10.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 to 169.254.169.254
        "64:ff9b::7f00:1",  # NAT64 to 127.0.0.1
        "64:ff9b:1::808:808",  # local-use NAT64 (RFC 8215): may map anywhere
        "2002:a00:1::1",  # 6to4 embedding 10.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 embedding 169.254.169.254
        "2002:c0a8:101::1",  # 6to4 embedding 192.168.1.1
        "::ffff:192.168.1.1",  # IPv4-mapped private
        "::ffff:100.64.0.1",  # IPv4-mapped CGNAT
        "::ffff:0:a00:1",  # IPv4-translated (RFC 2765)
        "::a00:1",  # IPv4-compatible (deprecated)
        "::808:808",  # IPv4-compatible, even of a public address
        "::",  # unspecified
        "100::1",  # discard-only (RFC 6666)
        "2001::1",  # Teredo
        "2001:2::1",  # benchmarking
        "2001:db8::1",  # documentation
        "2001:10::1",  # ORCHID
        "5f00::1",  # SRv6 SIDs (RFC 9602)
        "fc00::1",  # unique local
        "fe80::1%eth0",  # link-local with a zone
        "ff05::2",  # multicast
        "4000::1",  # outside global unicast 2000::/3
        "192.0.2.1",  # documentation
        "198.18.0.1",  # benchmarking
        "198.19.255.254",
        "198.51.100.1",  # documentation
        "203.0.113.1",  # documentation
        "255.255.255.255",  # limited broadcast
        "172.31.255.255",  # private
    ],
)
def test_special_purpose_addresses_are_not_public(ip: str) -> None:
    assert is_public_address(ip) is False


@pytest.mark.parametrize(
    "ip",
    ["2a00:1450:4001:80b::200e", "2606:4700::6810:85e5", "64:ff9b::808:808", "2002:808:808::1", "::ffff:1.1.1.1"],
)
def test_global_unicast_addresses_stay_public(ip: str) -> None:
    assert is_public_address(ip) is True


def test_site_local_host_is_refused_by_check_url() -> None:
    dns = FakeDns({"old-intranet.example.com": ["fec0::10"]})
    with pytest.raises(UnsafeUrlError, match=r"non-public address \(fec0::10\)"):
        check_url("https://old-intranet.example.com/hook", resolve=dns)
    with pytest.raises(UnsafeUrlError, match="non-public"):
        check_url("https://[fec0::1]/hook", resolve=dns)
