"""A small HTTP/1.1 server on 127.0.0.1 for tests and benchmarks, with faults on demand.

It speaks just enough HTTP (keep-alive, Content-Length bodies) for httpx, and records what
a test needs to assert on: every request, connections opened, requests in flight at once.
Faults are queued per path: a status with headers (429 + Retry-After, 503), HTML instead of
JSON, a truncated body with a matching Content-Length, a connection dropped mid-body, or a
stall longer than the client's timeout. ``hold_until_in_flight`` makes requests wait until
that many are in flight at once, which proves concurrency without measuring time.

Use ``async with LoopbackServer(handler) as server`` inside a test's loop, or
``with run_in_thread(LoopbackServer(handler)) as server`` from synchronous code (benchmarks).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import ssl
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

MAX_STALL_SECONDS = 10.0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return cls(status, json.dumps(data).encode(), {"Content-Type": "application/json", **(headers or {})})

    @classmethod
    def html(cls, text: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return cls(status, text.encode(), {"Content-Type": "text/html; charset=utf-8", **(headers or {})})


Handler = Callable[[Request], Response | Awaitable[Response]]


@dataclass
class Fault:
    """What to do instead of answering normally, for the next ``times`` matching requests.

    kinds: ``status`` (answer ``status`` with ``headers`` and ``body``), ``html`` (an HTML
    page with status 200), ``truncate`` (the real answer cut to ``keep`` bytes, Content-Length
    matching), ``drop`` (announce the full length, send ``keep`` bytes, close), ``stall`` (wait
    ``seconds`` before answering normally).
    """

    path: str  # regular expression searched in the request path
    kind: str = "status"
    times: int = 1
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    keep: int = 20
    seconds: float = 0.0
    method: str | None = None
    query: dict[str, str] = field(default_factory=dict)  # parameters the request must carry

    def matches(self, request: Request) -> bool:
        if self.method is not None and request.method != self.method:
            return False
        if any(request.param(name) != value for name, value in self.query.items()):
            return False
        return re.search(self.path, request.path) is not None


@dataclass
class ServerStats:
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    in_flight: int = 0
    max_in_flight: int = 0

    def paths(self) -> list[str]:
        return [request.path for request in self.requests]

    def to(self, path_pattern: str) -> list[Request]:
        """The requests whose path matches ``path_pattern`` (a board's list, not its details)."""
        return [request for request in self.requests if re.search(path_pattern, request.path)]


class LoopbackServer:
    def __init__(
        self,
        handler: Handler,
        *,
        latency: float = 0.0,
        hold_until_in_flight: int | None = None,
        hold_timeout: float = 5.0,
        stats: ServerStats | None = None,
        port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.handler = handler
        # A server-side context (tests/support/private_ca.py) makes this an https server.
        self.tls = tls
        self.latency = latency
        self.hold_until_in_flight = hold_until_in_flight
        self.hold_timeout = hold_timeout
        self.faults: list[Fault] = []
        # Servers given the same stats count together (several "hosts", one in-flight count).
        self.stats = stats if stats is not None else ServerStats()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight_changed: asyncio.Condition | None = None
        # 0: any free port; a given one lets a test bring a "down" receiver back where it was.
        self.port = port

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def inject(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    async def start(self) -> LoopbackServer:
        self._in_flight_changed = asyncio.Condition()
        self._server = await asyncio.start_server(
            self._serve_connection, "127.0.0.1", self.port, ssl=self.tls
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> LoopbackServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.stats.connections += 1
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                keep_open = await self._answer(request, writer)
                if not keep_open or request.headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _answer(self, request: Request, writer: asyncio.StreamWriter) -> bool:
        self.stats.requests.append(request)
        await self._enter_flight()
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            await self._hold()
            fault = self._take_fault(request)
            if fault is not None and fault.kind == "stall":
                await asyncio.sleep(min(fault.seconds, MAX_STALL_SECONDS))
                fault = None
            if fault is not None and fault.kind == "status":
                response = Response(fault.status, fault.body, dict(fault.headers))
            elif fault is not None and fault.kind == "html":
                response = Response.html(
                    "<!DOCTYPE html><html><body><h1>Service maintenance</h1></body></html>"
                )
            else:
                response = await self._handle(request)
            if fault is not None and fault.kind == "truncate":
                response = Response(response.status, response.body[: fault.keep], response.headers)
            if fault is not None and fault.kind == "drop":
                await _write(writer, response, send=fault.keep)
                return False
            await _write(writer, response)
            return True
        finally:
            await self._leave_flight()

    async def _handle(self, request: Request) -> Response:
        result = self.handler(request)
        return await result if isinstance(result, Awaitable) else result

    def _take_fault(self, request: Request) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.matches(request):
                fault.times -= 1
                return fault
        return None

    async def _enter_flight(self) -> None:
        assert self._in_flight_changed is not None
        async with self._in_flight_changed:
            self.stats.in_flight += 1
            self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
            self._in_flight_changed.notify_all()

    async def _leave_flight(self) -> None:
        assert self._in_flight_changed is not None
        async with self._in_flight_changed:
            self.stats.in_flight -= 1
            self._in_flight_changed.notify_all()

    async def _hold(self) -> None:
        """Wait (bounded) until enough requests are in flight together, or the hold is lifted."""
        if self.hold_until_in_flight is None or self._in_flight_changed is None:
            return
        target = self.hold_until_in_flight
        condition = self._in_flight_changed
        async with condition:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    condition.wait_for(lambda: self.stats.max_in_flight >= target), self.hold_timeout
                )


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    body = await reader.readexactly(length) if length else b""
    parts = urlsplit(target)
    return Request(method, parts.path, parse_qs(parts.query, keep_blank_values=True), headers, body)


async def _write(writer: asyncio.StreamWriter, response: Response, *, send: int | None = None) -> None:
    reason = (
        HTTPStatus(response.status).phrase if response.status in HTTPStatus._value2member_map_ else "Status"
    )
    headers = {"Content-Length": str(len(response.body)), **response.headers}
    head = f"HTTP/1.1 {response.status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    body = response.body if send is None else response.body[:send]
    writer.write(head.encode("latin-1") + b"\r\n" + body)
    await writer.drain()


@contextlib.contextmanager
def run_in_thread(server: LoopbackServer, *, startup_timeout: float = 10.0) -> Iterator[LoopbackServer]:
    """Serve from a background thread with its own loop (for synchronous callers such as bench/)."""
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, name="loopback-server", daemon=True)
    thread.start()
    if not started.wait(startup_timeout):
        raise RuntimeError("loopback server did not start")
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(startup_timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(startup_timeout)
        loop.close()
