"""Which IP addresses are globally reachable, and why the others are not.

An address is judged by what a connection to it would actually reach. IPv6 forms that carry
an IPv4 address (mapped, compatible, SIIT-translated, NAT64, 6to4, Teredo) are unwrapped and
the IPv4 inside is judged, because a dual-stack socket or a translator on the path delivers
the packets to that IPv4 address. The ranges follow the IANA special-purpose address
registries (RFC 6890 and its updates); a block that is not globally reachable is denied as a
whole, even where a few single addresses inside it are.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

IPAddress = IPv4Address | IPv6Address


def _v4_table(*rows: tuple[str, str]) -> tuple[tuple[IPv4Network, str], ...]:
    return tuple((IPv4Network(cidr), reason) for cidr, reason in rows)


def _v6_table(*rows: tuple[str, str]) -> tuple[tuple[IPv6Network, str], ...]:
    return tuple((IPv6Network(cidr), reason) for cidr, reason in rows)


DENIED_IPV4 = _v4_table(
    ("0.0.0.0/8", "unspecified or 'this network'"),  # Linux connects 0.0.0.0 to the host itself
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared address space (CGNAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),  # cloud metadata services live here
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "6to4 relay anycast"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),  # includes the broadcast address 255.255.255.255
)

# Everything outside 2000::/3 (global unicast) is denied anyway; these rows give the common
# cases a precise reason and cover the non-global blocks inside 2000::/3.
DENIED_IPV6 = _v6_table(
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("64:ff9b:1::/48", "local-use NAT64"),  # translated by the operator's own network
    ("100::/64", "discard-only"),
    ("2001::/23", "IETF protocol assignments"),
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing (SRv6) SIDs"),
    ("fc00::/7", "unique local (private)"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
)

GLOBAL_UNICAST_IPV6 = IPv6Network("2000::/3")

_MAPPED = IPv6Network("::ffff:0:0/96")
_TRANSLATED = IPv6Network("::ffff:0:0:0/96")
_COMPATIBLE = IPv6Network("::/96")
_NAT64 = IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR = IPv6Network("2002::/16")
_TEREDO = IPv6Network("2001::/32")


def parse_ip(text: str) -> IPAddress | None:
    """The address written in ``text`` (plain form, IPv6 without brackets), or None."""
    try:
        return ip_address(text)
    except ValueError:
        return None


def embedded_ipv4(ip: IPv6Address) -> tuple[str, tuple[IPv4Address, ...]] | None:
    """The IPv4 addresses an IPv6 address stands for, with the name of the form, if any."""
    low32 = IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _MAPPED:
        return "IPv4-mapped", (low32,)
    if ip in _TRANSLATED:
        return "IPv4-translated", (low32,)
    if ip in _COMPATIBLE and int(ip) > 1:  # :: and ::1 are themselves, not IPv4 carriers
        return "IPv4-compatible", (low32,)
    if ip in _NAT64:
        return "NAT64", (low32,)
    if ip in _SIX_TO_FOUR:
        return "6to4", (IPv4Address((int(ip) >> 80) & 0xFFFFFFFF),)
    if ip in _TEREDO:
        # A Teredo address names the relay server and (bit-inverted) the client behind it;
        # traffic reaches both, so both must be public.
        server = IPv4Address((int(ip) >> 64) & 0xFFFFFFFF)
        client = IPv4Address(~int(ip) & 0xFFFFFFFF)
        return "Teredo", (server, client)
    return None


def _ipv4_reason(ip: IPv4Address) -> str | None:
    for network, reason in DENIED_IPV4:
        if ip in network:
            return reason
    return None


def _ipv6_reason(ip: IPv6Address) -> str | None:
    if ip.scope_id:
        return "scoped (zone) address"
    for network, reason in DENIED_IPV6:
        if ip in network:
            return reason
    if ip not in GLOBAL_UNICAST_IPV6:
        return "not global unicast"
    return None


def why_not_global(ip: IPAddress) -> str | None:
    """Why ``ip`` is not globally reachable, or None when it is."""
    if isinstance(ip, IPv4Address):
        return _ipv4_reason(ip)
    carried = embedded_ipv4(ip)
    if carried is None:
        return _ipv6_reason(ip)
    form, addresses = carried
    for inner in addresses:
        reason = _ipv4_reason(inner)
        if reason is not None:
            return f"{reason}: {inner} carried by the {form} address"
    return None


def is_global_address(ip: IPAddress) -> bool:
    return why_not_global(ip) is None


def connectable_form(ip: IPAddress) -> IPAddress:
    """The address a socket should connect to: an IPv4-mapped address as its IPv4 self.

    Connecting to ``::ffff:a.b.c.d`` needs a dual-stack socket; the plain IPv4 form reaches
    the same host everywhere.
    """
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip
