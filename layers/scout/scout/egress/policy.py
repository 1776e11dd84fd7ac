"""The egress policy: resolve a host once and decide whether every address may be reached.

A host passes only when every address it resolves to passes. Checking just the first record
would let an attacker publish one public and one private A record and win whenever the
client picks the private one. Callers connect to the returned, checked addresses and never
resolve the name again: a second lookup is exactly what DNS rebinding exploits.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

from scout.egress.addresses import IPAddress, connectable_form, embedded_ipv4, parse_ip, why_not_global
from scout.egress.allow_list import parse_allow_entry
from scout.egress.hosts import host_for_lookup
from scout.egress.urls import TargetUrl, parse_target_url
from scout.errors import BlockedTarget, DnsFailed

if TYPE_CHECKING:
    from scout.settings import Settings

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``async (host, port) -> addresses``; replaces the system resolver (tests simulate DNS)."""

DEFAULT_DNS_TIMEOUT_SECONDS = 10.0


class EgressPolicy:
    """Global addresses pass; ``allow`` (hosts, IPs or CIDRs) lets chosen others through."""

    def __init__(
        self,
        allow: Iterable[str] = (),
        resolver: Resolver | None = None,
        *,
        dns_timeout: float = DEFAULT_DNS_TIMEOUT_SECONDS,
    ) -> None:
        entries = [parse_allow_entry(entry) for entry in allow]
        self.allowed_hosts = frozenset(entry for entry in entries if isinstance(entry, str))
        self.allowed_networks = tuple(entry for entry in entries if not isinstance(entry, str))
        self._resolver = resolver
        self._dns_timeout = dns_timeout

    @classmethod
    def from_settings(cls, settings: Settings, resolver: Resolver | None = None) -> EgressPolicy:
        return cls(allow=settings.egress_allow, resolver=resolver)

    def is_allowed(self, ip: IPAddress) -> bool:
        return self._refusal(ip) is None

    def is_allowed_host(self, host: str) -> bool:
        """Whether ``host`` is allow-listed by name (then every address it resolves to passes)."""
        return host.rstrip(".").lower() in self.allowed_hosts

    async def resolve(self, host: str, port: int) -> list[str]:
        """The checked addresses of ``host``; raise BlockedTarget, DnsFailed or InvalidUrl."""
        parsed = host_for_lookup(host)
        if parsed.ip is not None:
            addresses = [parsed.ip]
        else:
            addresses = await self._lookup(parsed.text, port)
        by_name = parsed.ip is None and self.is_allowed_host(parsed.text)
        for address in addresses:
            refusal = None if by_name else self._refusal(address)
            if refusal is not None:
                shown = parsed.text if parsed.ip is not None else f"{parsed.text} resolves to an address that"
                raise BlockedTarget(f"{shown} is not publicly reachable ({refusal})")
        checked = dict.fromkeys(str(connectable_form(address)) for address in addresses)
        return list(checked)

    def _refusal(self, ip: IPAddress) -> str | None:
        reason = why_not_global(ip)
        if reason is None or self._in_allowed_network(ip):
            return None
        return reason

    def _in_allowed_network(self, ip: IPAddress) -> bool:
        candidates: list[IPAddress] = [ip, connectable_form(ip)]
        carried = embedded_ipv4(ip) if ip.version == 6 else None
        if carried is not None and carried[0] in ("IPv4-mapped", "IPv4-translated"):
            candidates.extend(carried[1])
        return any(
            candidate in network
            for candidate in candidates
            for network in self.allowed_networks
            if candidate.version == network.version
        )

    async def _lookup(self, name: str, port: int) -> list[IPAddress]:
        try:
            async with asyncio.timeout(self._dns_timeout):
                answers = await (self._resolver or _system_resolve)(name, port)
        except TimeoutError:
            raise DnsFailed(f"looking up {name} timed out") from None
        except OSError as exc:  # socket.gaierror
            raise DnsFailed(f"{name} could not be resolved ({exc.strerror or exc})") from None
        addresses = []
        for answer in answers:
            address = parse_ip(answer)
            if address is None:
                raise DnsFailed(f"the resolver returned {answer!r} for {name}, which is not an address")
            addresses.append(address)
        if not addresses:
            raise DnsFailed(f"{name} has no addresses")
        return addresses


async def _system_resolve(name: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        name, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return [str(info[4][0]) for info in infos]


async def check_target_url(url: str, policy: EgressPolicy) -> TargetUrl:
    """Parse ``url`` and check that its host may be reached (no connection is made)."""
    target = parse_target_url(url)
    await policy.resolve(target.host, target.port)
    return target
