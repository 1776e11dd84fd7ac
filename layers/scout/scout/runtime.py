"""One event loop per execution environment, and the clients pooled on it.

A pooled ``httpx.AsyncClient`` (or a Playwright browser) is bound to the loop that first
used it. ``asyncio.run()`` per invocation makes a new loop each time and closes the old one,
so the second warm invocation fails with "Event loop is closed". Handlers therefore run
their coroutines through :func:`run`, which keeps one loop alive for the whole process.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")

_runner: asyncio.Runner | None = None
_runner_lock = threading.Lock()


def event_loop() -> asyncio.AbstractEventLoop:
    """The process-wide loop, created on first use and closed at interpreter exit."""
    global _runner
    with _runner_lock:
        if _runner is None:
            _runner = asyncio.Runner()
            atexit.register(_close_runner)
        return _runner.get_loop()


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one invocation's coroutine on the persistent loop (never from inside a loop)."""
    event_loop()
    assert _runner is not None
    return _runner.run(coro)


def _close_runner() -> None:
    global _runner
    runner, _runner = _runner, None
    if runner is not None:
        try:
            runner.run(_close_all_pooled())
        finally:
            runner.close()


class Pooled(Generic[T]):
    """A client created lazily on first use and checked before every reuse.

    ``factory`` builds a new client; ``usable`` says whether an existing one may be reused
    (not closed, still connected); ``close`` releases it. Register instances with
    :func:`pooled` so they are closed with the loop.
    """

    def __init__(
        self,
        factory: Callable[[], T],
        usable: Callable[[T], bool],
        close: Callable[[T], Awaitable[None]] | None = None,
    ) -> None:
        self._factory = factory
        self._usable = usable
        self._close = close
        self._client: T | None = None
        self.created = 0

    def get(self) -> T:
        client = self._client
        if client is None or not self._usable(client):
            client = self._factory()
            self._client = client
            self.created += 1
        return client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._close is not None:
            await self._close(client)


_registry: list[Pooled[Any]] = []


def pooled(
    factory: Callable[[], T],
    usable: Callable[[T], bool],
    close: Callable[[T], Awaitable[None]] | None = None,
) -> Pooled[T]:
    slot = Pooled(factory, usable, close)
    _registry.append(slot)
    return slot


async def _close_all_pooled() -> None:
    for slot in _registry:
        # Closing at exit must never raise: the process is going away anyway.
        with contextlib.suppress(Exception):
            await slot.aclose()


# httpcore closes a connection idle for 5 s by default. A poll keeps every connection it opens
# (scout.jobs.fetching admits requests to the connections granted), but a host can sit idle for
# longer than that while other hosts' pages and details are fetched: each such close cost a new
# connection (bench/polling: 22-31 instead of 20). A connection the server closed meanwhile is
# seen as readable at EOF and replaced by httpcore before reuse, so keeping them longer is safe.
KEEPALIVE_EXPIRY_SECONDS = 60.0


def new_http_client(
    *,
    max_connections: int = 20,
    max_keepalive: int | None = None,
    timeout_seconds: float = 15.0,
    connect_timeout_seconds: float | None = None,
    follow_redirects: bool = True,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """A client pooling up to ``max_connections``, all of them kept alive by default.

    httpcore 1.0 closes an idle connection whenever its pool holds more than
    ``max_keepalive`` connections counting busy ones (encode/httpcore#1000), so a keep-alive
    limit below the pool size closes almost every connection a busy pool releases: with
    20/10, polling 320 boards opened 385 connections for 438 requests (bench/polling).
    """
    # Imported with the first client: the API functions never make one, and httpx is a tenth
    # of their cold start's import.
    import httpx

    keepalive = max_connections if max_keepalive is None else max_keepalive
    return httpx.AsyncClient(
        limits=httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=keepalive,
            keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS,
        ),
        timeout=httpx.Timeout(timeout_seconds, connect=connect_timeout_seconds or timeout_seconds),
        follow_redirects=follow_redirects,
        transport=transport,
        headers={"User-Agent": "scout/0.1 (+https://github.com/scout)"},
    )


async def _aclose_http(client: httpx.AsyncClient) -> None:
    await client.aclose()


# The job poller keeps at most 20 requests in flight, 6 per host (scout.jobs.fetching). The
# shared pool holds more connections than that, so a warm connection to one ATS host is not
# closed to open one to another while the mix of hosts shifts: 6 for each of the five fixed ATS
# API hosts, and room for Workday tenants. In bench/polling this halved the connections opened.
SHARED_POOL_CONNECTIONS = 40


def new_shared_http_client() -> httpx.AsyncClient:
    """A client configured like :func:`http_client`'s (tests and benchmarks make their own)."""
    return new_http_client(max_connections=SHARED_POOL_CONNECTIONS)


http_client_slot: Pooled[httpx.AsyncClient] = pooled(
    new_shared_http_client, lambda client: not client.is_closed, _aclose_http
)


def http_client() -> httpx.AsyncClient:
    """The execution environment's shared HTTP client."""
    return http_client_slot.get()
