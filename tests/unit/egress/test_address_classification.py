"""Which addresses are globally reachable (only public addresses may be reached: docs/egress.md)."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from scout.egress.addresses import connectable_form, is_global_address, why_not_global

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "100.63.255.255",  # just below CGNAT
    "100.128.0.0",  # just above CGNAT
    "172.32.0.1",  # just above 172.16/12
    "198.17.255.255",  # just below benchmarking
    "198.20.0.0",  # just above benchmarking
    "223.255.255.255",  # last unicast before multicast
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",  # IPv4-mapped public
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
    "2002:808:808::1",  # 6to4 of 8.8.8.8
    "2001:0:4136:e378:8000:63bf:f7f7:fbfb",  # Teredo: server 65.54.227.120, client 8.8.4.4
]

NOT_PUBLIC = [
    ("0.0.0.0", "this network"),
    ("0.1.2.3", "this network"),
    ("10.0.0.1", "private"),
    ("10.255.255.255", "private"),
    ("100.64.0.1", "CGNAT"),
    ("100.127.255.254", "CGNAT"),
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("169.254.169.254", "link-local"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.0.0.170", "IETF protocol assignments"),
    ("192.0.2.1", "documentation"),
    ("192.88.99.1", "6to4 relay"),
    ("192.168.1.1", "private"),
    ("198.18.0.1", "benchmarking"),
    ("198.19.255.255", "benchmarking"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "scoped"),
    ("fc00::1", "unique local"),
    ("fd12:3456::1", "unique local"),
    ("fec0::1", "site-local"),
    ("ff02::1", "multicast"),
    ("100::1", "discard"),
    ("2001:db8::1", "documentation"),
    ("3fff::1", "documentation"),
    ("2001:2::1", "IETF protocol assignments"),  # benchmarking, inside 2001::/23
    ("5f00::1", "segment routing"),
    ("4000::1", "not global unicast"),
    ("64:ff9b:1::808:808", "local-use NAT64"),
    # IPv6 forms that carry a non-public IPv4 address
    ("::ffff:127.0.0.1", "loopback: 127.0.0.1 carried by the IPv4-mapped address"),
    ("::ffff:169.254.169.254", "link-local"),
    ("::ffff:0:10.0.0.1", "private: 10.0.0.1 carried by the IPv4-translated address"),
    ("::127.0.0.1", "loopback: 127.0.0.1 carried by the IPv4-compatible address"),
    ("64:ff9b::a9fe:a9fe", "link-local: 169.254.169.254 carried by the NAT64 address"),
    ("64:ff9b::7f00:1", "loopback"),
    ("2002:7f00:1::1", "loopback: 127.0.0.1 carried by the 6to4 address"),
    ("2002:a00:1::1", "private"),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback: 127.0.0.1 carried by the Teredo address"),
    ("2001:0:a00:1:8000:63bf:f7f7:fbfb", "private: 10.0.0.1 carried by the Teredo address"),
]


@pytest.mark.parametrize("address", PUBLIC)
def test_public_address_is_global(address: str) -> None:
    # Given a publicly routable address (possibly wrapped in an IPv6 transition form)
    ip = ip_address(address)

    # When / Then it is judged global
    assert why_not_global(ip) is None
    assert is_global_address(ip)


@pytest.mark.parametrize(("address", "reason"), NOT_PUBLIC)
def test_non_public_address_is_refused_with_its_reason(address: str, reason: str) -> None:
    # Given an address that is not publicly reachable
    ip = ip_address(address)

    # When it is judged
    verdict = why_not_global(ip)

    # Then it is refused, and the reason names the range it falls in
    assert verdict is not None
    assert reason in verdict
    assert not is_global_address(ip)


def test_ipv4_mapped_address_connects_as_plain_ipv4() -> None:
    # Given an IPv4-mapped IPv6 address
    ip = ip_address("::ffff:127.0.0.2")

    # When / Then the socket target is the IPv4 address itself; other forms are unchanged
    assert str(connectable_form(ip)) == "127.0.0.2"
    assert str(connectable_form(ip_address("2001:4860::1"))) == "2001:4860::1"
