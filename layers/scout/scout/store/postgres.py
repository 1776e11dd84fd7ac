"""The store over psycopg: ``DATABASE_URL``, local default and tests (docs/storage.md)."""

from __future__ import annotations

import asyncio
import contextlib
import select
import weakref
from collections.abc import AsyncIterator, Mapping
from time import monotonic
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from scout.errors import BadRequest, StoreUnavailable, UpstreamFailed
from scout.observability import logger
from scout.store.arguments import JsonValue, checked_identifier, encode_arguments, literal_text
from scout.store.circuit import CircuitBreaker
from scout.store.sqlstate import error_for

# A connection the server terminated (admin_shutdown, crash_shutdown): Postgres sends these
# as it ends the session, so a statement answered with one never committed.
_ENDED_BEFORE_COMMIT = frozenset({"57P01", "57P02"})


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
        connect_wait_seconds: float = 1.0,
        stale_after_seconds: float = 30.0,
        circuit: CircuitBreaker | None = None,
    ) -> None:
        self.round_trips = 0
        self.closed = False
        self._dsn = dsn
        self._max_connections = max_connections
        self._timeout_seconds = timeout_seconds
        self._connect_wait_seconds = min(connect_wait_seconds, timeout_seconds)
        self._holding = 0  # calls holding a connection right now
        self.circuit = circuit or CircuitBreaker()
        self._stale_after_seconds = stale_after_seconds
        self._pool: AsyncConnectionPool | None = None
        self._pool_lock: asyncio.Lock | None = None
        self._retiring: set[asyncio.Future[None]] = set()
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
        self.circuit.before_call()
        pool = await self._open_pool()
        try:
            try:
                rows = await self._execute(pool, statement, params)
            except psycopg.OperationalError as exc:
                if exc.sqlstate not in _ENDED_BEFORE_COMMIT:
                    raise
                # The server was shutting this connection down: the statement did not
                # commit, so it is safe to run once more, on a fresh connection.
                logger.info("store connection ended by the server; retrying", extra={"function": function})
                rows = await self._execute(pool, statement, params)
        except PoolTimeout as exc:
            self.circuit.record_failure()
            self._replace_pool(pool)
            logger.warning("store connection unavailable", extra={"function": function, "error": str(exc)})
            raise StoreUnavailable("the store is unreachable; try again shortly") from exc
        except psycopg.Error as exc:
            error = _store_error(exc, function)
            if isinstance(error, StoreUnavailable):
                self.circuit.record_failure()
            else:
                self.circuit.record_success()  # the server answered: it is up
            raise error from exc
        self.circuit.record_success()
        if len(rows) != 1:
            # Only a set-returning function gives other than one row; conventions forbid them.
            raise UpstreamFailed(f"{function} must return a single jsonb value")
        return rows[0][0]

    async def _execute(
        self, pool: AsyncConnectionPool, statement: sql.Composed, params: dict[str, str | None]
    ) -> list[Any]:
        async with self._connection(pool) as conn:
            self.round_trips += 1
            cursor = await conn.execute(statement, params)
            rows = await cursor.fetchall()
            self._last_used[conn] = monotonic()
        return rows

    @contextlib.asynccontextmanager
    async def _connection(self, pool: AsyncConnectionPool) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A pooled connection, waiting long only when the pool is busy rather than cut off.

        No connection within ``connect_wait_seconds`` while no other call holds one means the
        server cannot be reached: fail now. While other calls hold connections the server is
        evidently up and this call only queues, so it waits up to ``timeout_seconds``.
        """
        started = monotonic()
        try:
            conn = await pool.getconn(timeout=self._connect_wait_seconds)
        except PoolTimeout:
            if self._holding == 0:
                raise
            remaining = self._timeout_seconds - (monotonic() - started)
            conn = await pool.getconn(timeout=max(remaining, 0.1))
        self._holding += 1
        try:
            yield conn
        finally:
            self._holding -= 1
            await pool.putconn(conn)

    async def aclose(self) -> None:
        self.closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
        if self._retiring:
            await asyncio.gather(*self._retiring, return_exceptions=True)

    def _replace_pool(self, pool: AsyncConnectionPool) -> None:
        """Drop a pool that could not connect; the next call opens a fresh one.

        A pool whose connection attempts keep failing backs off between them (seconds, and
        growing), so once the server is back it would still wait out its delay while calls
        time out. A fresh pool connects at once.
        """
        if self._pool is not pool or self._holding:
            return
        self._pool = None
        retiring = asyncio.ensure_future(pool.close(timeout=1.0))
        self._retiring.add(retiring)
        retiring.add_done_callback(self._retiring.discard)

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
                        # libpq's floor; a call waits at most connect_wait_seconds anyway.
                        "connect_timeout": 2,
                    },
                    check=self._check_before_reuse,
                    open=False,
                    name="scout-store",
                )
                await pool.open(wait=False)
                self._pool = pool
        return self._pool

    async def _check_before_reuse(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Refuse a pooled connection the server has dropped, so the pool hands out another.

        An idle autocommit connection receives nothing unless the server ended it (a restart
        sends FATAL 57P01, then closes), so a readable socket marks it dead. That check costs
        no round trip and runs on every reuse. A connection idle long enough to have been
        dropped silently (a frozen Lambda environment keeps its sockets while the server or
        a NAT forgets them) is also pinged.
        """
        if conn.broken or conn.closed or _has_unread_input(conn):
            # Closed here, or the pool would take it back as it is and hand it out again.
            await conn.close()
            raise psycopg.OperationalError("the server ended this connection")
        last_used = self._last_used.get(conn)
        if last_used is None or monotonic() - last_used < self._stale_after_seconds:
            if last_used is None:
                self._last_used[conn] = monotonic()
            return
        self.round_trips += 1
        await conn.execute("select 1")
        self._last_used[conn] = monotonic()


def _has_unread_input(conn: psycopg.AsyncConnection[Any]) -> bool:
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


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
        if isinstance(exc, psycopg.DataError):
            # Refused by psycopg before sending, e.g. a NUL byte, which no Postgres text holds.
            return BadRequest(f"a value cannot be stored: {exc}")
        logger.warning("store connection failed", extra={"function": function, "error": str(exc)})
        if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
            return StoreUnavailable("the store is unreachable; try again shortly")
        return UpstreamFailed(f"the store could not complete {function}")
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
