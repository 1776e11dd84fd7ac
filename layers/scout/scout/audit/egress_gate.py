"""The seam between the scan engine and the egress guard (docs/egress.md).

The engine needs two things from the guard: a verdict on the target URL before it navigates,
and the Chromium flags that send every browser's traffic (Lighthouse's Chrome included)
through the guard's proxy. ``EgressGate`` is that interface; ``GuardedEgress``, on top of
``scout.egress``, is its only implementation in the package. The browser pool and the
Lighthouse worker require a gate, so nothing in scout launches a browser that bypasses it.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from scout.egress.chromium import CHROMIUM_EGRESS_ARGS
from scout.egress.policy import EgressPolicy, check_target_url
from scout.egress.proxy import EgressProxy


class EgressGate(Protocol):
    async def check(self, url: str) -> str:
        """The URL to navigate to, normalised; raises InvalidUrl, BlockedTarget or DnsFailed."""
        ...

    async def browser_args(self) -> list[str]:
        """Chromium flags that route a browser's traffic through the guard (starting it once)."""
        ...

    def blocked_count(self) -> int:
        """Connections the guard has refused so far (tells a refused redirect from a dead site)."""
        ...

    async def aclose(self) -> None: ...


class GuardedEgress:
    """The egress policy's checks and its in-process proxy, started on first use."""

    def __init__(self, policy: EgressPolicy) -> None:
        self._policy = policy
        self._proxy: EgressProxy | None = None
        self._lock = asyncio.Lock()
        self.closed = False

    async def check(self, url: str) -> str:
        target = await check_target_url(url, self._policy)
        return str(target.url)

    async def browser_args(self) -> list[str]:
        async with self._lock:
            if self._proxy is None:
                proxy = EgressProxy(self._policy)
                await proxy.start()
                self._proxy = proxy
            return list(CHROMIUM_EGRESS_ARGS(self._proxy.url))

    def blocked_count(self) -> int:
        return int(self._proxy.blocked) if self._proxy is not None else 0

    async def aclose(self) -> None:
        self.closed = True
        proxy, self._proxy = self._proxy, None
        if proxy is not None:
            await proxy.stop()
