"""Shared fixtures: a real, migrated Postgres and the two store adapters over it.

Fixtures (request them by name; areas add their own in tests/integration/<area>/conftest.py):

``database_url``        session   DSN of a database with every migration applied. It is
                                  ``TEST_DATABASE_URL`` when set - its tables are emptied between
                                  tests, so never point it at data you want to keep (a developer's
                                  ``DATABASE_URL`` is deliberately ignored) - otherwise an embedded
                                  Postgres (pgserver) in a temporary folder, stopped after the session.
``clean_database``      function  Empties every application table (rows the migrations seed
                                  are put back) before the test; returns ``database_url``.
``db``                  function  An async psycopg connection to the clean database
                                  (autocommit, dict rows) for a test's Given and Then SQL.
``postgres_store``      function  ``PostgresStore`` on the clean database.
``service_role_key``    session   A service-role JWT signed with ``TEST_JWT_SECRET``.
``postgrest_transport`` function  ``PostgrestTransport``: PostgREST's rpc contract served from the
                                  clean database (counts ``requests``).
``supabase_store``      function  ``SupabaseStore`` over ``postgrest_transport``.
``store``               function  Parametrized: the test runs once with ``postgres_store`` and
                                  once with ``supabase_store`` (ids ``postgres``/``supabase``).
``rewire``              function  Call it after changing the environment mid-test: the rest of
                                  the test serves with dependencies built from the new one
                                  (``scout.deps.using``, the one override point).

Stores and connections are closed after the test. Async tests and fixtures share the session's
event loop (pyproject: ``asyncio_default_*_loop_scope = "session"``), as handlers share one loop.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import psycopg
import pytest
from psycopg.rows import dict_row

from scout.store.embedded import EmbeddedPostgres
from scout.store.migrations import apply_migrations
from scout.store.postgres import PostgresStore
from scout.store.supabase import SupabaseStore
from tests.support.database import DatabaseReset, embedded_postgres_folder
from tests.support.postgrest_transport import TEST_JWT_SECRET, TEST_SUPABASE_URL, PostgrestTransport
from tests.support.wiring import rewiring

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS_DIR = PROJECT_ROOT / "supabase" / "migrations"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        apply_migrations(external, MIGRATIONS_DIR)
        yield external
        return
    with embedded_postgres_folder() as folder:
        server = EmbeddedPostgres(folder / "data", MIGRATIONS_DIR)
        try:
            yield server.start()
        finally:
            server.stop()


@pytest.fixture(scope="session")
def database_reset(database_url: str) -> Iterator[DatabaseReset]:
    reset = DatabaseReset(database_url)
    # Embedded: migrated just now, so the tables hold only seeds. External: a snapshot
    # from an earlier session is kept, since its tables may hold that session's last rows.
    reset.prepare(snapshot=not os.environ.get("TEST_DATABASE_URL"))
    yield reset
    reset.reset_blocking()  # leave an external database clean for the next session


@pytest.fixture
async def clean_database(database_url: str, database_reset: DatabaseReset) -> str:
    await database_reset.reset()
    return database_url


@pytest.fixture
async def db(clean_database: str) -> AsyncIterator[psycopg.AsyncConnection[dict[str, Any]]]:
    conn = await psycopg.AsyncConnection.connect(clean_database, autocommit=True, row_factory=dict_row)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def postgres_store(clean_database: str) -> AsyncIterator[PostgresStore]:
    store = PostgresStore(clean_database)
    try:
        yield store
    finally:
        await store.aclose()


@pytest.fixture(scope="session")
def service_role_key() -> str:
    now = int(time.time())
    claims = {"iss": "supabase", "role": "service_role", "iat": now, "exp": now + 24 * 3600}
    return jwt.encode(claims, TEST_JWT_SECRET, algorithm="HS256")


@pytest.fixture
async def postgrest_transport(
    clean_database: str, service_role_key: str
) -> AsyncIterator[PostgrestTransport]:
    transport = PostgrestTransport(clean_database, jwt_secret=TEST_JWT_SECRET, api_keys=(service_role_key,))
    try:
        yield transport
    finally:
        await transport.aclose()


@pytest.fixture
async def supabase_store(
    postgrest_transport: PostgrestTransport, service_role_key: str
) -> AsyncIterator[SupabaseStore]:
    store = SupabaseStore(TEST_SUPABASE_URL, service_role_key, transport=postgrest_transport)
    try:
        yield store
    finally:
        await store.aclose()


@pytest.fixture(params=["postgres", "supabase"])
def store(request: pytest.FixtureRequest) -> PostgresStore | SupabaseStore:
    adapter: PostgresStore | SupabaseStore = request.getfixturevalue(f"{request.param}_store")
    return adapter


@pytest.fixture
def rewire() -> Iterator[Callable[[], None]]:
    with rewiring() as rewire_now:
        yield rewire_now
