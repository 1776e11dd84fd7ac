"""What only the Postgres adapter does: its pool of connections, checked before reuse."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from scout.errors import UpstreamFailed
from scout.store.postgres import PostgresStore


async def _kill_backend(db: psycopg.AsyncConnection[dict[str, Any]], pid: int) -> None:
    row = await (await db.execute("select pg_terminate_backend(%s) as killed", [pid])).fetchone()
    assert row is not None
    assert row["killed"]


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


async def test_a_connection_lost_under_a_call_is_upstream_failed_and_the_next_call_reconnects(
    clean_database: str, db: psycopg.AsyncConnection[dict[str, Any]]
) -> None:
    # Given a store of one connection, recently used, that the server then dropped
    store = PostgresStore(clean_database, max_connections=1)
    first = await store.call("scout_test_session")
    await _kill_backend(db, first["pid"])
    # When the next call lands on it, then it fails as an upstream failure
    with pytest.raises(UpstreamFailed) as raised:
        await store.call("scout_test_session")
    assert raised.value.message == "the store could not complete scout_test_session"
    # And the call after it gets a new connection
    again = await store.call("scout_test_session")
    assert again["pid"] != first["pid"]
    await store.aclose()


async def test_the_pool_opens_on_the_first_call_not_before() -> None:
    # Given a store for a database that does not exist: constructing it connects to nothing
    store = PostgresStore("host=127.0.0.1 port=1 dbname=nowhere user=nobody")
    assert store.round_trips == 0
    await store.aclose()
