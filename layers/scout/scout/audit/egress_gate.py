"""The seam between the scan engine and the egress guard of DESIGN §4.

The engine needs two things from the guard: a verdict on the target URL before it navigates,
and the Chromium flags that send every browser's traffic (Lighthouse's Chrome included)
through the guard's proxy. ``EgressGate`` is that interface. ``GuardedEgress`` is the
production implementation on top of ``scout.egress``, imported lazily so the scan engine
loads without it; ``UncheckedEgress`` is for tests and local pages that must bypass the
guard, and says so in its name.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from scout.errors import InvalidUrl

if TYPE_CHECKING:
    from scout.settings import Settings


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
    """The production gate: ``scout.egress`` policy checks and its in-process proxy."""

    def __init__(self, policy: Any | None = None, *, settings: Settings | None = None) -> None:
        try:
            # Imported here so the engine loads (and its tests run) without the egress package.
            egress: Any = importlib.import_module("scout.egress")
        except ImportError as exc:
            raise RuntimeError(
                "the egress guard (scout.egress) is not installed; scans do not run without it"
            ) from exc

        if policy is None:
            from scout.settings import get_settings

            policy = egress.EgressPolicy.from_settings(settings or get_settings())
        self._egress = egress
        self._policy = policy
        self._proxy: Any | None = None
        self._lock = asyncio.Lock()
        self.closed = False

    async def check(self, url: str) -> str:
        target = await self._egress.check_target_url(url, self._policy)
        return str(target.url)

    async def browser_args(self) -> list[str]:
        async with self._lock:
            if self._proxy is None:
                proxy = self._egress.EgressProxy(self._policy)
                await proxy.start()
                self._proxy = proxy
            return list(self._egress.CHROMIUM_EGRESS_ARGS(self._proxy.url))

    def blocked_count(self) -> int:
        return int(self._proxy.blocked) if self._proxy is not None else 0

    async def aclose(self) -> None:
        self.closed = True
        proxy, self._proxy = self._proxy, None
        if proxy is not None:
            await proxy.stop()


class UncheckedEgress:
    """No guard at all: the URL is only checked to be http(s), and browsers connect directly.

    Only for tests on loopback pages and for the lead's local wiring before the guard is
    merged; production code never builds one.
    """

    closed = False

    async def check(self, url: str) -> str:
        parts = urlsplit(url.strip())
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise InvalidUrl(f"not an http(s) URL: {url!r}")
        return parts.geturl()

    async def browser_args(self) -> list[str]:
        return []

    def blocked_count(self) -> int:
        return 0

    async def aclose(self) -> None:
        return None
