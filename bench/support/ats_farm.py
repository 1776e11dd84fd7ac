"""Six fake ATS servers (one per kind) and a Postgres wire meter, in a background thread.

Each kind's fake is one server; Workday's serves every tenant under the tenant's own host name
(``WORKDAY_BASE_URL=http://{host}:PORT``; the client resolves ``*.myworkdayjobs.com`` to
127.0.0.1 with ``tests.support.loopback_names``), so 40 tenants are 40 hosts as in production,
and the other kinds one host each.

The polling benchmark runs each variant in a child process; the servers live in the parent,
on their own thread and loop, so what they spend serving never counts against the client.
They count what the client did to them: requests (per kind and per host), TCP connections opened, the
most connections open at once and the most requests in flight at once. Every server answers
after the same latency. Answers are cached per request, because building them is the
fake's cost, not the client's.

Database round trips are counted on the wire by a ``PostgresWireMeter`` on the same loop:
children reach Postgres through it, so the count does not depend on what a client reports.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from scout.jobs.posting import ATS_KINDS
from tests.support.fake_ats import FakeAts
from tests.support.http_server import LoopbackServer, Request, Response, ServerStats
from tests.support.wire_meter import PostgresWireMeter

T = TypeVar("T")
# A posting's detail page (Workday job, SmartRecruiters posting), as opposed to a board's list.
_DETAIL_PATH = re.compile(r"^/wday/cxs/[^/]+/[^/]+/job/|^/v1/companies/[^/]+/postings/[^/]+$")
STARTUP_TIMEOUT_SECONDS = 30.0


@dataclass
class OpenConnections:
    now: int = 0
    most: int = 0

    def opened(self) -> None:
        self.now += 1
        self.most = max(self.most, self.now)

    def closed(self) -> None:
        self.now -= 1


class _GaugedServer(LoopbackServer):
    """A loopback server that also tracks how many connections are open at once.

    A connection counts as closed the moment its client's FIN arrives (the reader's EOF, fed
    inside the loop's read callback), not when its task gets round to ending: a client that
    closes one connection and then opens another sends the FIN first, and the new connection
    only reaches its task a few loop iterations after its accept, so the gauge sees the close
    first and never counts one connection too many.
    """

    def __init__(self, handler: Any, *, gauge: OpenConnections, **options: Any) -> None:
        super().__init__(handler, **options)
        self.gauge = gauge

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.gauge.opened()
        counted = True

        def closed() -> None:
            nonlocal counted
            if counted:
                counted = False
                self.gauge.closed()

        feed_eof = reader.feed_eof

        def feed_eof_and_count() -> None:
            closed()
            feed_eof()

        reader.feed_eof = feed_eof_and_count  # type: ignore[method-assign]
        if reader.at_eof():
            closed()
        try:
            await super()._serve_connection(reader, writer)
        finally:
            closed()


@dataclass
class FarmCounts:
    requests: int
    requests_by_kind: dict[str, int]
    requests_by_host: dict[str, int]
    detail_requests_by_kind: dict[str, int]
    request_span_by_kind: dict[str, tuple[float, float]]
    connections: int
    most_connections_open: int
    most_requests_in_flight: int
    db_round_trips: int
    db_connections: int
    db_bytes_sent: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _Answers:
    """The fake's answers, built once per distinct request."""

    fake: FakeAts = field(default_factory=FakeAts)
    cache: dict[tuple[Any, ...], Response] = field(default_factory=dict)
    requests_by_kind: Counter[str] = field(default_factory=Counter)
    requests_by_host: Counter[str] = field(default_factory=Counter)
    detail_requests_by_kind: Counter[str] = field(default_factory=Counter)
    # When each kind's first and last request arrived (loop time), to see which host is the tail.
    first_request: dict[str, float] = field(default_factory=dict)
    last_request: dict[str, float] = field(default_factory=dict)

    def handler(self, kind: str) -> Any:
        def answer(request: Request) -> Response:
            self.requests_by_kind[kind] += 1
            # A Workday tenant by its host name; every other kind is one host, named by its kind.
            host = request.headers.get("host", "").rsplit(":", 1)[0]
            self.requests_by_host[kind if host in ("", "127.0.0.1") else host] += 1
            if _DETAIL_PATH.search(request.path):
                self.detail_requests_by_kind[kind] += 1
            now = time.monotonic()
            self.first_request.setdefault(kind, now)
            self.last_request[kind] = now
            key = (
                request.method,
                request.path,
                tuple(sorted((name, tuple(values)) for name, values in request.query.items())),
                request.body,
            )
            response = self.cache.get(key)
            if response is None:
                response = self.cache[key] = self.fake.handle(request)
            return response

        return answer


class AtsFarm:
    """``with AtsFarm(latency=0.05, database_dsn=dsn) as farm:`` then ``farm.serve(fake)``."""

    def __init__(self, *, latency: float, database_dsn: str) -> None:
        self.latency = latency
        self._database_dsn = database_dsn
        self._answers = _Answers()
        self._gauge = OpenConnections()
        self._stats = ServerStats()
        self.servers: dict[str, _GaugedServer] = {}
        self._meter = PostgresWireMeter(database_dsn)
        self.metered_dsn = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ats-farm", daemon=True)

    def __enter__(self) -> AtsFarm:
        self._thread.start()
        self._run(self._start())
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self._run(self._stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(STARTUP_TIMEOUT_SECONDS)
            self._loop.close()

    def url(self, kind: str) -> str:
        return self.servers[kind].url

    def environment(self) -> dict[str, str]:
        """The settings that point every ATS kind at its fake server."""
        return {
            "GREENHOUSE_API_URL": self.url("greenhouse"),
            "LEVER_API_URL": self.url("lever"),
            "LEVER_EU_API_URL": self.url("lever"),
            "ASHBY_API_URL": self.url("ashby"),
            "SMARTRECRUITERS_API_URL": self.url("smartrecruiters"),
            # Every tenant keeps its own host name, resolved to this server (see the module doc).
            "WORKDAY_BASE_URL": self.url("workday").replace("127.0.0.1", "{host}"),
            # Careers pages go through the egress guard, which refuses loopback unless allowed.
            "SCOUT_EGRESS_ALLOW": "127.0.0.1",
        }

    def serve(self, fake: FakeAts) -> None:
        self._answers.fake = fake
        self._answers.cache.clear()

    def set_latency(self, latency: float) -> None:
        """Every answer from now on takes ``latency`` seconds (between runs)."""
        self.latency = latency
        for server in self.servers.values():
            server.latency = latency

    def reset(self) -> None:
        """Zero every count (between runs, while nothing is in flight)."""
        self._run(self._reset())

    def counts(self) -> FarmCounts:
        return self._run(self._counts())

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(STARTUP_TIMEOUT_SECONDS)

    async def _start(self) -> None:
        for kind in ATS_KINDS:
            server = _GaugedServer(
                self._answers.handler(kind), gauge=self._gauge, latency=self.latency, stats=self._stats
            )
            self.servers[kind] = server
            await server.start()
        self.metered_dsn = await self._meter.start()

    async def _stop(self) -> None:
        await self._meter.stop()
        for server in self.servers.values():
            await server.stop()

    async def _reset(self) -> None:
        self._stats = ServerStats()
        for server in self.servers.values():
            server.stats = self._stats
        self._gauge.most = self._gauge.now
        self._answers.requests_by_kind.clear()
        self._answers.requests_by_host.clear()
        self._answers.detail_requests_by_kind.clear()
        self._answers.first_request.clear()
        self._answers.last_request.clear()
        self._meter.round_trips = 0
        self._meter.connections = 0
        self._meter.bytes_sent = 0

    def _spans(self) -> dict[str, tuple[float, float]]:
        """Per kind, seconds from the run's first request to that kind's first and last."""
        answers = self._answers
        if not answers.first_request:
            return {}
        zero = min(answers.first_request.values())
        return {
            kind: (round(answers.first_request[kind] - zero, 2), round(answers.last_request[kind] - zero, 2))
            for kind in sorted(answers.first_request)
        }

    async def _counts(self) -> FarmCounts:
        return FarmCounts(
            requests=len(self._stats.requests),
            requests_by_kind=dict(self._answers.requests_by_kind),
            requests_by_host=dict(self._answers.requests_by_host),
            detail_requests_by_kind=dict(self._answers.detail_requests_by_kind),
            request_span_by_kind=self._spans(),
            connections=self._stats.connections,
            most_connections_open=self._gauge.most,
            most_requests_in_flight=self._stats.max_in_flight,
            db_round_trips=self._meter.round_trips,
            db_connections=self._meter.connections,
            db_bytes_sent=self._meter.bytes_sent,
        )
