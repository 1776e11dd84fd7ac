"""An in-process HTTP proxy that lets a browser reach only what the egress policy allows.

Chromium is pointed at this proxy for all of its traffic (see :mod:`scout.egress.chromium`).
For every request the proxy parses the target host itself, resolves it once through the
policy and connects to the address it checked, so a name that answers differently a moment
later (DNS rebinding) cannot redirect the connection. Two request forms are served, the two
Chromium sends to an HTTP proxy: ``CONNECT host:port`` (https, wss), relayed as an opaque
tunnel, and absolute-form plain HTTP (``GET http://host/path``), websocket upgrades
included, sent upstream in origin form.

Plain HTTP is one request per connection: the proxy asks the origin to close after the
response and tells the browser the same. A second request can therefore never ride along
on a connection opened for a different, checked host.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from scout.egress.policy import EgressPolicy
from scout.egress.urls import split_authority
from scout.errors import BlockedTarget, DnsFailed, InvalidUrl

logger = logging.getLogger("scout.egress")

_HEAD_END = b"\r\n\r\n"
_CHUNK = 64 * 1024
# After an error answer, how long and how much of the client's unread request to discard.
_LINGER_SECONDS = 1.0
_LINGER_BYTES = 1024 * 1024
# Hop-by-hop headers (RFC 9110 §7.6.1) and the proxy's own; never forwarded to the origin.
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "te"}
)
_REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    408: "Request Timeout",
    431: "Request Header Fields Too Large",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


# The proxy's own refusals name their reason in this header, so the scan engine can tell "the
# host does not resolve" from a site's own 502. The proxy strips it from origins' answers, so a
# site cannot pose as the proxy.
EGRESS_ERROR_HEADER = "X-Scout-Egress-Error"


class _Refused(Exception):
    """Answer the client with ``status`` and a short body, then close."""

    def __init__(self, status: int, body: str, reason: str | None = None) -> None:
        super().__init__(body)
        self.status = status
        self.body = body
        self.reason = reason


@dataclass
class _RequestHead:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name]

    def connection_tokens(self) -> set[str]:
        return {token.strip().lower() for value in self.values("connection") for token in value.split(",")}

    def is_upgrade(self) -> bool:
        return "upgrade" in self.connection_tokens() and bool(self.values("upgrade"))


@dataclass
class _Activity:
    """When bytes last moved in either direction of a relay (for the idle timeout)."""

    last: float = field(default_factory=lambda: asyncio.get_running_loop().time())

    def touch(self) -> None:
        self.last = asyncio.get_running_loop().time()


class EgressProxy:
    """HTTP proxy on 127.0.0.1 (ephemeral port) enforcing ``policy`` on every connection."""

    def __init__(
        self,
        policy: EgressPolicy,
        *,
        max_connections: int = 256,
        max_header_bytes: int = 64 * 1024,
        header_timeout: float = 30.0,
        connect_timeout: float = 10.0,
        idle_timeout: float = 60.0,
    ) -> None:
        self.policy = policy
        self.max_connections = max_connections
        self.max_header_bytes = max_header_bytes
        self.header_timeout = header_timeout
        self.connect_timeout = connect_timeout
        self.idle_timeout = idle_timeout
        self.blocked = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._port: int | None = None

    @property
    def url(self) -> str:
        if self._port is None:
            raise RuntimeError("the egress proxy is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def active_connections(self) -> int:
        return len(self._tasks)

    async def start(self) -> None:
        if self._server is not None:
            return
        self._closing = False
        self._server = await asyncio.start_server(
            self._serve, host="127.0.0.1", port=0, limit=self.max_header_bytes
        )
        self._port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._closing = True
        server.close()
        await asyncio.sleep(0)  # let connections accepted just now start and see _closing
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()
        self._port = None

    async def __aenter__(self) -> EgressProxy:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if not self._closing:
                await self._serve_connection(reader, writer)
        except asyncio.CancelledError:
            # stop() cancels connection tasks; ending normally keeps asyncio's stream
            # callback (which calls task.exception()) from logging the cancellation.
            if not self._closing:
                raise
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            self._tasks.discard(task)

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if len(self._tasks) > self.max_connections:
                raise _Refused(503, "too many connections through the egress proxy")
            await self._handle(reader, writer)
        except _Refused as refusal:
            await _reply(reader, writer, refusal.status, refusal.body, refusal.reason)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away; nothing to answer
        except Exception:
            logger.exception("egress proxy connection failed")

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await self._read_request_head(reader)
        if head.method == "CONNECT":
            host, port = _connect_target(head.target)
            upstream_reader, upstream_writer = await self._open_checked(host, port)
            try:
                writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                await writer.drain()
                await self._relay(
                    reader, writer, upstream_reader, upstream_writer, rewrite_response_head=False
                )
            finally:
                upstream_writer.close()
            return
        authority, origin_target = _absolute_http_target(head.target)
        host, port = _authority(authority, "http")
        upstream_reader, upstream_writer = await self._open_checked(host, port)
        try:
            upstream_writer.write(_origin_request_head(head, authority, origin_target))
            await upstream_writer.drain()
            await self._relay(reader, writer, upstream_reader, upstream_writer, rewrite_response_head=True)
        finally:
            upstream_writer.close()

    async def _read_request_head(self, reader: asyncio.StreamReader) -> _RequestHead:
        try:
            async with asyncio.timeout(self.header_timeout):
                raw = await reader.readuntil(_HEAD_END)
        except TimeoutError:
            raise _Refused(408, "request head not received in time") from None
        except asyncio.LimitOverrunError:
            raise _Refused(431, "request head too large") from None
        return _parse_request_head(raw)

    async def _open_checked(self, host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            addresses = await self.policy.resolve(host, port)
        except BlockedTarget as exc:
            self.blocked += 1
            logger.warning("egress proxy refused %s:%s: %s", host, port, exc.message)
            raise _Refused(403, "blocked by the egress policy", "blocked_target") from None
        except InvalidUrl:
            raise _Refused(400, "invalid target host") from None
        except DnsFailed:
            raise _Refused(502, "the target host could not be resolved", "dns_failed") from None
        timed_out = False
        for address in addresses:
            try:
                async with asyncio.timeout(self.connect_timeout):
                    return await asyncio.open_connection(address, port, limit=self.max_header_bytes)
            except TimeoutError:
                timed_out = True
            except OSError:
                continue
        if timed_out:
            raise _Refused(504, "connecting to the target timed out", "timeout")
        raise _Refused(502, "could not connect to the target", "connection_failed")

    async def _relay(
        self,
        client_reader: asyncio.StreamReader,
        client_writer: asyncio.StreamWriter,
        upstream_reader: asyncio.StreamReader,
        upstream_writer: asyncio.StreamWriter,
        *,
        rewrite_response_head: bool,
    ) -> None:
        """Move bytes both ways until the origin is done, the client fails, or all is idle."""
        activity = _Activity()
        downstream = asyncio.create_task(
            _relay_response(upstream_reader, client_writer, activity)
            if rewrite_response_head
            else _pump(upstream_reader, client_writer, activity)
        )
        upstream = asyncio.create_task(_pump(client_reader, upstream_writer, activity))
        pending: set[asyncio.Task[None]] = {downstream, upstream}
        loop = asyncio.get_running_loop()
        try:
            while downstream in pending:
                remaining = activity.last + self.idle_timeout - loop.time()
                if remaining <= 0:
                    break
                done, pending = await asyncio.wait(
                    pending, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                )
                if upstream in done and upstream.exception() is not None:
                    break  # the client failed mid-request: the response has nowhere to go
        finally:
            for task in (downstream, upstream):
                task.cancel()
            await asyncio.gather(downstream, upstream, return_exceptions=True)


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter, activity: _Activity) -> None:
    """Copy until end of stream, then pass the half-close on."""
    while data := await source.read(_CHUNK):
        activity.touch()
        sink.write(data)
        await sink.drain()
    if sink.can_write_eof():
        with contextlib.suppress(OSError):
            sink.write_eof()


async def _relay_response(
    upstream_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter, activity: _Activity
) -> None:
    """Relay a plain-HTTP response, telling the client this connection ends with it."""
    try:
        raw = await upstream_reader.readuntil(_HEAD_END)
    except asyncio.LimitOverrunError:
        client_writer.write(_error_response(502, "the target sent a response head that is too large"))
        return
    except asyncio.IncompleteReadError:
        client_writer.write(_error_response(502, "the target closed the connection without a response"))
        return
    activity.touch()
    client_writer.write(_client_response_head(raw))
    await client_writer.drain()
    await _pump(upstream_reader, client_writer, activity)


def _client_response_head(raw: bytes) -> bytes:
    """The origin's response head with ``Connection: close`` (interim and 101 heads as they are)."""
    lines = raw[: -len(_HEAD_END)].split(b"\r\n")
    status_parts = lines[0].split(b" ", 2)
    if len(status_parts) < 2 or not status_parts[1].isdigit():
        return raw
    status = int(status_parts[1])
    if status < 200:
        return raw
    kept = [lines[0]] + [
        line
        for line in lines[1:]
        if line.split(b":", 1)[0].strip().lower().decode("latin-1") not in _HOP_BY_HOP
        and not line.lower().startswith(EGRESS_ERROR_HEADER.lower().encode())
    ]
    kept.append(b"Connection: close")
    return b"\r\n".join(kept) + _HEAD_END


async def _reply(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    status: int,
    body: str,
    reason: str | None = None,
) -> None:
    """Answer and close gracefully: unread request bytes would otherwise turn the close into
    a reset that can destroy the answer before the client reads it."""
    with contextlib.suppress(ConnectionError, TimeoutError, OSError):
        writer.write(_error_response(status, body, reason))
        await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
        async with asyncio.timeout(_LINGER_SECONDS):
            discarded = 0
            while discarded < _LINGER_BYTES and (data := await reader.read(_CHUNK)):
                discarded += len(data)


def _error_response(status: int, body: str, reason: str | None = None) -> bytes:
    payload = (body + "\n").encode()
    marker = f"{EGRESS_ERROR_HEADER}: {reason}\r\n" if reason else ""
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
        f"{marker}"
        "Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(payload)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + payload


def _parse_request_head(raw: bytes) -> _RequestHead:
    lines = raw[: -len(_HEAD_END)].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[2] not in ("HTTP/1.1", "HTTP/1.0") or not parts[0].isalpha():
        raise _Refused(400, "malformed request line")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip() or any(ord(char) < 0x21 for char in name):
            raise _Refused(400, "malformed header line")
        headers.append((name, value.strip()))
    return _RequestHead(method=parts[0], target=parts[1], version=parts[2], headers=headers)


def _authority(authority: str, scheme: str) -> tuple[str, int]:
    try:
        host, port = split_authority(authority, scheme)
    except InvalidUrl as exc:
        raise _Refused(400, exc.message) from None
    return host.text, port


def _connect_target(target: str) -> tuple[str, int]:
    after_host = target.rsplit("]", 1)[-1]
    if after_host.count(":") != 1 or target.endswith(":"):
        raise _Refused(400, "CONNECT needs host:port")
    return _authority(target, "https")


def _absolute_http_target(target: str) -> tuple[str, str]:
    """Split ``http://authority/path?query`` into the authority and the origin-form target."""
    scheme, separator, rest = target.partition("://")
    if not separator or scheme.lower() != "http":
        raise _Refused(400, "only CONNECT and absolute http:// requests are proxied")
    end = min((rest.find(stop) for stop in "/?#" if stop in rest), default=len(rest))
    authority, origin_target = rest[:end], rest[end:].split("#", 1)[0]
    if not origin_target.startswith("/"):
        origin_target = "/" + origin_target
    return authority, origin_target


def _origin_request_head(head: _RequestHead, authority: str, origin_target: str) -> bytes:
    upgrade = head.is_upgrade()
    dropped = _HOP_BY_HOP | (head.connection_tokens() - {"upgrade"}) | {"host"}
    lines = [f"{head.method} {origin_target} {head.version}", f"Host: {authority}"]
    lines += [f"{name}: {value}" for name, value in head.headers if name.lower() not in dropped]
    lines.append("Connection: Upgrade" if upgrade else "Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
