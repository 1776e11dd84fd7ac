"""An egress gate for tests of the browser parts on loopback pages, where the guard is not the
subject: it only checks that the URL is http(s), and browsers connect directly.

The package has no such gate: ``BrowserPool`` and ``LighthouseWorker`` require one, and
production wiring passes ``scout.audit.egress_gate.GuardedEgress``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scout.errors import InvalidUrl


class UncheckedEgress:
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
