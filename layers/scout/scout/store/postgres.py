"""The store over psycopg: ``DATABASE_URL``, local default and tests (docs/storage.md)."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Mapping
from time import monotonic
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from scout.errors import UpstreamFailed
from scout.observability import logger
from scout.store.arguments import JsonValue, checked_identifier, encode_arguments, literal_text
from scout.store.sqlstate import error_for


class PostgresStore:
    """Calls ``public.<function>(name => value, ...)`` on a small pool of connections.

    Each call is one statement on an autocommit connection, so the SQL function is the
    transaction and a call is one round trip. Concurrent calls run on separate connections.
    """

    def __init__(
        self,
        dsn: str,
        *,
        max_connections: int = 10,
        timeout_seconds: float = 10.0,
        stale_after_seconds: float = 30.0,
    ) -> None:
        self.round_trips = 0
        self.closed = False
        self._dsn = dsn
        self._max_connections = max_connections
        self._timeout_seconds = timeout_seconds
        self._stale_after_seconds = stale_after_seconds
        self._pool: AsyncConnectionPool | None = None
        self._pool_lock: asyncio.Lock | None = None
        self._last_used: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], float] = (
            weakref.WeakKeyDictionary()
        )

    async def call(self, function: str, /, **args: Any) -> Any:
        if self.closed:
            raise RuntimeError("this store is closed")
        name = checked_identifier(function, "function name")
        encoded = encode_arguments(args)
        statement = call_statement(name, encoded)
        params = {name: literal_text(value) for name, value in encoded.items()}
        pool = await self._open_pool()
        try:
            async with pool.connection() as conn:
                self.round_trips += 1
                cursor = await conn.execute(statement, params)
                rows = await cursor.fetchall()
                self._last_used[conn] = monotonic()
        except PoolTimeout as exc:
            logger.warning("store connection unavailable", extra={"function": function, "error": str(exc)})
            raise UpstreamFailed("the store is unreachable") from exc
        except psycopg.Error as exc:
            raise _store_error(exc, function) from exc
        if len(rows) != 1:
            # Only a set-returning function gives other than one row; conventions forbid them.
            raise UpstreamFailed(f"{function} must return a single jsonb value")
        return rows[0][0]

    async def aclose(self) -> None:
        self.closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def _open_pool(self) -> AsyncConnectionPool:
        if self._pool is not None:
            return self._pool
        # Created on first use, inside the loop that will run every call (docs/architecture.md).
        if self._pool_lock is None:
            self._pool_lock = asyncio.Lock()
        async with self._pool_lock:
            if self._pool is None:
                pool = AsyncConnectionPool(
                    self._dsn,
                    min_size=1,
                    max_size=self._max_connections,
                    timeout=self._timeout_seconds,
                    # A transaction-mode pooler (Supabase's port 6543) cannot keep named
                    # prepared statements, and one statement per call gains little from them.
                    kwargs={
                        "autocommit": True,
                        "prepare_threshold": None,
                        "connect_timeout": max(1, round(self._timeout_seconds)),
                    },
                    check=self._check_before_reuse,
                    open=False,
                    name="scout-store",
                )
                await pool.open(wait=False)
                self._pool = pool
        return self._pool

    async def _check_before_reuse(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Ping a connection that sat idle long enough to have been dropped.

        A frozen Lambda environment keeps its sockets while the server or a NAT forgets
        them; the first call after a thaw would fail on a dead connection. A failing ping
        makes the pool discard the connection and hand out another.
        """
        if conn.broken:
            raise psycopg.OperationalError("connection is broken")
        last_used = self._last_used.get(conn)
        if last_used is None or monotonic() - last_used < self._stale_after_seconds:
            if last_used is None:
                self._last_used[conn] = monotonic()
            return
        self.round_trips += 1
        await conn.execute("select 1")
        self._last_used[conn] = monotonic()


def call_statement(function: str, args: Mapping[str, JsonValue]) -> sql.Composed:
    """``select to_jsonb(public.fn(a => %(a)s, ...))`` with untyped parameters.

    Untyped parameters let Postgres pick each argument's type from the function's
    declaration, as PostgREST does. ``to_jsonb`` renders any result the way PostgREST's
    JSON output does, so both adapters decode the same value.
    """
    named = sql.SQL(", ").join(
        sql.SQL("{} => {}").format(sql.Identifier(name), sql.Placeholder(name)) for name in args
    )
    return sql.SQL("select to_jsonb({}({}))").format(sql.Identifier("public", function), named)


def _store_error(exc: psycopg.Error, function: str) -> Exception:
    diag = exc.diag
    if exc.sqlstate is None:
        logger.warning("store connection failed", extra={"function": function, "error": str(exc)})
        return UpstreamFailed("the store is unreachable")
    error = error_for(exc.sqlstate, diag.message_primary, function)
    if isinstance(error, UpstreamFailed):
        logger.warning(
            "store call failed",
            extra={
                "function": function,
                "sqlstate": exc.sqlstate,
                "error": diag.message_primary,
                "detail": diag.message_detail,
            },
        )
    return error
