"""A loopback web site that serves sitemaps for the planner's tests, hostile ones included,
and the sitemap documents they serve.

Routes answer a status, headers and a body that is either bytes or produced chunk by chunk
(a 100 MB stream, a server that trickles), so a test can see how much the client really
read. The server listens on any loopback address (127.0.0.2 is the allow-listed "site";
127.0.0.1 is the canary the policy never allows) and gives each request at most HANDLER_DEADLINE_SECONDS and
cancels its handlers when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

HANDLER_DEADLINE_SECONDS = 20.0
XML = {"Content-Type": "application/xml"}


def urlset(*locs: str) -> bytes:
    entries = "".join(f"<url><loc>{loc}</loc><lastmod>2026-12-01</lastmod></url>" for loc in locs)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    ).encode()


def index(*locs: str) -> bytes:
    entries = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>'
    ).encode()


@dataclass
class Page:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    chunks: Callable[[], AsyncIterator[bytes]] | None = None  # streamed without Content-Length


class SitemapSite:
    def __init__(self, routes: dict[str, Page], *, host: str = "127.0.0.2", port: int = 0) -> None:
        self.routes = routes
        self.host = host
        self.port = port
        self.paths: list[str] = []
        self.connections = 0
        self.bytes_sent = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def url(self, path: str, host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    async def __aenter__(self) -> SitemapSite:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            while True:
                # Per request, not per connection: a keep-alive connection may serve many.
                async with asyncio.timeout(HANDLER_DEADLINE_SECONDS):
                    if not await self._answer(reader, writer):
                        break
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return False
        target = head.split(b" ", 2)[1].decode("latin-1")
        path = target.partition("?")[0]
        self.paths.append(path)
        page = self.routes.get(path, Page(404, b"not found"))
        headers = dict(page.headers)
        if page.chunks is None:
            headers["Content-Length"] = str(len(page.body))
        else:
            headers["Connection"] = "close"
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        writer.write(f"HTTP/1.1 {page.status} Status\r\n{lines}\r\n".encode("latin-1"))
        if page.chunks is None:
            writer.write(page.body)
            self.bytes_sent += len(page.body)
            await writer.drain()
            return True
        async for chunk in page.chunks():
            writer.write(chunk)
            self.bytes_sent += len(chunk)
            await writer.drain()
        return False
