"""Loopback servers for the egress tests.

``OriginServer`` is a small HTTP/1.1 origin (optionally TLS, with a websocket endpoint) that
the tests allow-list, on 127.0.0.2. ``Canary`` listens on 127.0.0.1 and counts every TCP
connection and UDP datagram that reaches it: the policy never allows it, so any hit is an
egress leak. ``twin_servers`` puts both on the *same port*, so a connection that follows a
rebound name (or ignores the address that was checked) lands on the canary.

Every server stops itself: handlers have deadlines and ``stop`` cancels what is left.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

HANDLER_DEADLINE_SECONDS = 15.0
_WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


@dataclass
class SeenRequest:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    sni: str | None = None


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/plain; charset=utf-8"


Route = Callable[[SeenRequest], Reply]


class _Tracked:
    """An asyncio server whose connection handlers are tracked and cancelled on stop."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False
        self.port = 0

    async def _listen(self, host: str, port: int, ssl_context: ssl.SSLContext | None = None) -> None:
        self._server = await asyncio.start_server(self._serve, host, port, ssl=ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            async with asyncio.timeout(HANDLER_DEADLINE_SECONDS):
                await self.handle(reader, writer)
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        except asyncio.CancelledError:
            # stop() cancels handlers; ending normally keeps Python 3.11's stream callback
            # (task.exception() on a cancelled task) from logging an error
            if not self._stopping:
                raise
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            self._tasks.discard(task)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        self._stopping = True
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()


class OriginServer(_Tracked):
    """The allow-listed origin. ``routes`` map a path to a reply; ``/ws`` is a websocket."""

    def __init__(self, routes: dict[str, Route] | None = None, ssl_context: ssl.SSLContext | None = None):
        super().__init__()
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[SeenRequest] = []
        self.websocket_messages_sent = 0
        self._ssl_context = ssl_context
        self._last_sni: str | None = None
        if ssl_context is not None:
            ssl_context.sni_callback = self._remember_sni

    def _remember_sni(self, _socket: Any, server_name: str | None, _context: Any) -> None:
        self._last_sni = server_name

    async def start(self, host: str = "127.0.0.2", port: int = 0) -> None:
        await self._listen(host, port, self._ssl_context)

    def url(self, path: str = "/", host: str = "127.0.0.2") -> str:
        scheme = "https" if self._ssl_context else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [request.target for request in self.requests]

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await _read_request(reader)
        request.sni = self._last_sni
        self.requests.append(request)
        path = request.target.split("?", 1)[0]
        if path == "/ws" and request.headers.get("upgrade", "").lower() == "websocket":
            await self._websocket(request, reader, writer)
            return
        route = self.routes.get(path)
        reply = route(request) if route else Reply(404, b"not found")
        writer.write(_response_bytes(reply))
        await writer.drain()

    async def _websocket(
        self, request: SeenRequest, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        key = request.headers.get("sec-websocket-key", "")
        accept = base64.b64encode(
            hashlib.sha1((key + _WEBSOCKET_GUID).encode(), usedforsecurity=False).digest()
        ).decode()
        writer.write(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        message = b"hello from the allowed origin"
        writer.write(bytes([0x81, len(message)]) + message)  # one unmasked text frame
        await writer.drain()
        self.websocket_messages_sent += 1
        while await reader.read(4096):  # hold the socket until the client closes
            pass


class Canary(_Tracked):
    """Counts every TCP connection and UDP datagram to 127.0.0.1:port."""

    def __init__(self) -> None:
        super().__init__()
        self.tcp_hits = 0
        self.udp_hits = 0
        self._udp: asyncio.DatagramTransport | None = None

    @property
    def hits(self) -> int:
        return self.tcp_hits + self.udp_hits

    async def start(self, port: int = 0) -> None:
        await self._listen("127.0.0.1", port)
        canary = self

        class _CountDatagrams(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
                canary.udp_hits += 1

        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            _CountDatagrams, local_addr=("127.0.0.1", self.port)
        )
        self._udp = transport

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.tcp_hits += 1
        writer.write(_response_bytes(Reply(200, b"canary reached")))
        await writer.drain()

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
        await super().stop()


@contextlib.asynccontextmanager
async def twin_servers(
    routes: dict[str, Route] | None = None, ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[tuple[OriginServer, Canary]]:
    """An origin on 127.0.0.2:P and a canary on 127.0.0.1:P (same P)."""
    for _attempt in range(20):
        canary, origin = Canary(), OriginServer(routes, ssl_context)
        try:
            await canary.start()
            await origin.start(port=canary.port)
        except OSError:  # the port was free on 127.0.0.1 but not on 127.0.0.2
            await canary.stop()
            await origin.stop()
            continue
        break
    else:
        raise RuntimeError("no port free on both 127.0.0.1 and 127.0.0.2")
    try:
        yield origin, canary
    finally:
        await origin.stop()
        await canary.stop()


async def _read_request(reader: asyncio.StreamReader) -> SeenRequest:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    body = await reader.readexactly(length) if length else b""
    return SeenRequest(method, target, headers, body)


def _response_bytes(reply: Reply) -> bytes:
    headers = {"Content-Type": reply.content_type, **reply.headers}
    headers["Content-Length"] = str(len(reply.body))
    headers.setdefault("Connection", "close")
    head = f"HTTP/1.1 {reply.status} X\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    return (head + "\r\n").encode("latin-1") + reply.body


class NameTable:
    """An in-memory DNS for the ``resolver`` hook: fixed answers, or answers that change.

    ``rebinding(name, first, then)`` answers ``first`` on the first lookup and ``then`` on
    every later one, the way an attacker's DNS with a zero TTL does. Unknown names fail like
    a real NXDOMAIN.
    """

    def __init__(self, fixed: dict[str, list[str]] | None = None) -> None:
        self.fixed = dict(fixed or {})
        self.sequences: dict[str, tuple[list[str], list[str]]] = {}
        self.lookups: list[str] = []

    def rebinding(self, name: str, first: list[str], then: list[str]) -> None:
        self.sequences[name] = (first, then)

    async def __call__(self, host: str, port: int) -> list[str]:
        host = host.rstrip(".")  # a fully qualified name is the same name
        previous = self.lookups.count(host)
        self.lookups.append(host)
        if host in self.sequences:
            first, then = self.sequences[host]
            return list(first if previous == 0 else then)
        if host in self.fixed:
            return list(self.fixed[host])
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
