"""What only the Postgres adapter does: its pool of connections, checked before reuse."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

from scout.errors import StoreUnavailable
from scout.store.postgres import PostgresStore


async def _kill_backend(db: psycopg.AsyncConnection[dict[str, Any]], pid: int) -> None:
    row = await (await db.execute("select pg_terminate_backend(%s) as killed", [pid])).fetchone()
    assert row is not None
    assert row["killed"]


async def _until_gone(db: psycopg.AsyncConnection[dict[str, Any]], pid: int) -> None:
    for _ in range(100):  # at most ~5 s
        cursor = await db.execute("select 1 from pg_stat_activity where pid = %s", [pid])
        if await cursor.fetchone() is None:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"backend {pid} still running")


async def test_a_connection_the_server_ends_during_a_call_is_retried_once_on_a_new_one(
    clean_database: str, db: psycopg.AsyncConnection[dict[str, Any]]
) -> None:
    # Given a store of one connection whose backend is terminated just before the next
    # call is sent (the server's goodbye not yet readable, so the reuse check passes)
    store = PostgresStore(clean_database, max_connections=1)
    first = await store.call("scout_test_session")
    await _kill_backend(db, first["pid"])
    # When the call runs, it gets 57P01 for its statement, which never committed
    again = await store.call("scout_test_session")
    # Then it was run again on a new connection and succeeded
    assert again["pid"] != first["pid"]
    await store.aclose()


async def test_an_idle_connection_that_died_is_replaced_before_the_next_call(
    clean_database: str, db: psycopg.AsyncConnection[dict[str, Any]]
) -> None:
    # Given a store of one connection, pinged when idle longer than zero seconds, and that
    # connection killed (as a thawed Lambda finds its socket closed by the server)
    store = PostgresStore(clean_database, max_connections=1, stale_after_seconds=0)
    first = await store.call("scout_test_session")
    await _kill_backend(db, first["pid"])
    # When it calls again
    second = await store.call("scout_test_session")
    # Then the call succeeded on a new connection
    assert second["pid"] != first["pid"]
    await store.aclose()


async def test_a_recently_used_connection_the_server_ended_is_replaced_without_a_ping(
    clean_database: str, db: psycopg.AsyncConnection[dict[str, Any]]
) -> None:
    # Given a store of one connection, just used, that the server then terminated (as a
    # Postgres restart does: FATAL 57P01, then the socket closes)
    store = PostgresStore(clean_database, max_connections=1)
    first = await store.call("scout_test_session")
    await _kill_backend(db, first["pid"])
    await _until_gone(db, first["pid"])
    trips_before = store.round_trips
    # When the next call comes
    again = await store.call("scout_test_session")
    # Then it succeeds on a new connection: the dead one was refused before use, and
    # spotting it cost no round trip (the socket had the server's goodbye waiting)
    assert again["pid"] != first["pid"]
    assert store.round_trips == trips_before + 1
    await store.aclose()


async def test_the_pool_opens_on_the_first_call_not_before() -> None:
    # Given a store for a database that does not exist: constructing it connects to nothing
    store = PostgresStore("host=127.0.0.1 port=1 dbname=nowhere user=nobody")
    assert store.round_trips == 0
    await store.aclose()


async def test_a_database_that_refuses_connections_fails_fast_then_the_circuit_answers_at_once() -> None:
    # Given a store for a port where nothing listens
    store = PostgresStore("host=127.0.0.1 port=9 dbname=scout user=scout connect_timeout=2")
    # When it is called as often as the circuit tolerates failures
    for _ in range(store.circuit.failure_threshold):
        with pytest.raises(StoreUnavailable):
            await store.call("scout_ping")
    # Then the circuit is open: the next call is refused without trying the network
    assert store.circuit.state == "open"
    trips = store.round_trips
    with pytest.raises(StoreUnavailable, match="unreachable"):
        await store.call("scout_ping")
    assert store.round_trips == trips
    await store.aclose()
