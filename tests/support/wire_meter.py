"""Counts real Postgres round trips: a loopback proxy reading the server's replies.

Every round trip of the frontend/backend protocol ends with one ReadyForQuery ('Z')
message from the server, and so does each connection's startup. Counting the others on the
wire measures what a client really does, whatever it believes it does.
"""

from __future__ import annotations

import asyncio
import contextlib

from psycopg.conninfo import conninfo_to_dict, make_conninfo

_READY_FOR_QUERY = ord("Z")


class PostgresWireMeter:
    """A proxy on 127.0.0.1 in front of the server at ``dsn``; ``round_trips`` so far."""

    def __init__(self, dsn: str) -> None:
        self._params = conninfo_to_dict(dsn)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.round_trips = 0
        self.connections = 0
        # What clients sent the server (queries and their parameters), in bytes.
        self.bytes_sent = 0

    async def start(self) -> str:
        """Listen; return a DSN that reaches the server through the meter."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        params = {key: value for key, value in self._params.items() if key != "hostaddr"}
        # Plain protocol on loopback, so every server message can be read.
        params.update(host="127.0.0.1", port=str(port), sslmode="disable", gssencmode="disable")
        return make_conninfo("", **params)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await task
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        server_reader, server_writer = await self._connect_upstream()
        self.connections += 1
        upstream = asyncio.ensure_future(self._pump_requests(client_reader, server_writer))
        try:
            await self._relay_replies(server_reader, client_writer)
        finally:
            upstream.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await upstream
            for writer in (client_writer, server_writer):
                writer.close()
            self._tasks.discard(task)

    async def _connect_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        host = str(self._params.get("host") or "/tmp")
        port = str(self._params.get("port") or "5432")
        if host.startswith("/"):
            return await asyncio.open_unix_connection(f"{host}/.s.PGSQL.{port}")
        return await asyncio.open_connection(host, int(port))

    async def _relay_replies(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pending = b""
        started = False  # the first ReadyForQuery ends the connection's startup, not a round trip
        while chunk := await reader.read(65536):
            writer.write(chunk)
            pending += chunk
            # Each server message: a type byte, then a 4-byte length that counts itself.
            while len(pending) >= 5:
                length = int.from_bytes(pending[1:5], "big")
                if len(pending) < 1 + length:
                    break
                if pending[0] == _READY_FOR_QUERY:
                    if started:
                        self.round_trips += 1
                    started = True
                pending = pending[1 + length :]
            await writer.drain()

    async def _pump_requests(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while chunk := await reader.read(65536):
            self.bytes_sent += len(chunk)
            writer.write(chunk)
            await writer.drain()
        writer.close()
