"""Fixtures of the store's own tests: the contract's SQL functions, metered and unreachable
stores, scratch databases."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from scout.store.postgres import PostgresStore
from scout.store.supabase import SupabaseStore
from tests.support.postgrest_transport import TEST_JWT_SECRET, TEST_SUPABASE_URL, PostgrestTransport
from tests.support.wire_meter import PostgresWireMeter

HERE = Path(__file__).parent


@pytest.fixture(scope="session", autouse=True)
def contract_functions(database_url: str) -> Iterator[None]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute((HERE / "contract_functions.sql").read_bytes())
    yield
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute((HERE / "drop_contract_functions.sql").read_bytes())


@dataclass
class MeteredStore:
    """A store and an independent count of the round trips it really made."""

    store: PostgresStore | SupabaseStore
    measured_round_trips: Callable[[], int]


@pytest.fixture(params=["postgres", "supabase"])
async def metered_store(
    request: pytest.FixtureRequest, clean_database: str, service_role_key: str
) -> AsyncIterator[MeteredStore]:
    if request.param == "postgres":
        meter = PostgresWireMeter(clean_database)
        postgres = PostgresStore(await meter.start())
        try:
            yield MeteredStore(postgres, lambda: meter.round_trips)
        finally:
            await postgres.aclose()
            await meter.stop()
    else:
        transport = PostgrestTransport(
            clean_database, jwt_secret=TEST_JWT_SECRET, api_keys=(service_role_key,)
        )
        supabase = SupabaseStore(TEST_SUPABASE_URL, service_role_key, transport=transport)
        try:
            yield MeteredStore(supabase, lambda: transport.requests)
        finally:
            await supabase.aclose()
            await transport.aclose()


def _closed_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed again: connecting to it is refused


@pytest.fixture(params=["postgres", "supabase"])
async def unreachable_store(request: pytest.FixtureRequest, service_role_key: str) -> AsyncIterator[object]:
    port = _closed_loopback_port()
    adapter: PostgresStore | SupabaseStore
    if request.param == "postgres":
        adapter = PostgresStore(f"host=127.0.0.1 port={port} dbname=scout user=scout", timeout_seconds=1)
    else:
        adapter = SupabaseStore(f"http://127.0.0.1:{port}", service_role_key, timeout_seconds=5)
    try:
        yield adapter
    finally:
        await adapter.aclose()


@pytest.fixture
def scratch_database(database_url: str) -> Iterator[str]:
    """A new, empty database on the test server (no migrations), dropped afterwards."""
    name = f"scout_scratch_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo("", **{**conninfo_to_dict(database_url), "dbname": name})
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))
