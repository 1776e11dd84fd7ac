"""``SCOUT_EGRESS_ALLOW`` entries: the only way to let a non-global address through.

Depends on host parsing alone, so the settings can validate the list at cold start without
importing the egress policy (which itself is configured from the settings).
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_network

from scout.egress.hosts import host_for_lookup, parse_host
from scout.errors import InvalidUrl

AllowEntry = IPv4Network | IPv6Network | str


def parse_allow_entry(entry: str) -> AllowEntry:
    """An allow-list entry: a CIDR, a single address, or a host name (canonicalised)."""
    text = entry.strip()
    if "/" in text:
        try:
            return ip_network(text, strict=False)
        except ValueError:
            raise ValueError(f"SCOUT_EGRESS_ALLOW entry {entry!r} is not a valid CIDR") from None
    try:
        host = host_for_lookup(text) if text else parse_host("")
    except InvalidUrl as exc:
        raise ValueError(f"SCOUT_EGRESS_ALLOW entry {entry!r}: {exc.message}") from None
    if host.ip is not None:
        return ip_network(host.ip)
    return host.text.rstrip(".")
