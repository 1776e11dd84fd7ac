"""Puts a test database back to its just-migrated state between tests.

SQL functions commit on their own connections, so a test cannot be wrapped in a transaction
that is rolled back. Instead every application table is truncated in one statement, and the
rows the migrations seeded (snapshotted once, right after migrating) are put back.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

SEED_SCHEMA = "scout_test_seed"

# Schemas that hold no scout data: Postgres's own, the migration bookkeeping, the seed
# snapshot, and those of a Supabase stack when TEST_DATABASE_URL points at one.
KEPT_SCHEMAS = (
    "information_schema",
    "scout_meta",
    SEED_SCHEMA,
    "auth",
    "storage",
    "realtime",
    "_realtime",
    "_analytics",
    "supabase_functions",
    "supabase_migrations",
    "extensions",
    "graphql",
    "graphql_public",
    "vault",
    "pgsodium",
    "pgsodium_masks",
    "net",
    "cron",
    "pgbouncer",
)

_APPLICATION_TABLES = """
select n.nspname as schema, c.relname as name,
       array(select a.attname::text from pg_attribute a
             where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
             order by a.attnum) as columns
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p') and not c.relispartition
  and n.nspname <> all(%(kept)s) and n.nspname not like 'pg\\_%%'
  and not exists (select from pg_depend d where d.objid = c.oid and d.deptype = 'e')
order by 1, 2
"""

_TRUNCATE_APPLICATION_TABLES = sql.SQL("""
do $reset$
declare
    tables text;
begin
    select string_agg(format('%I.%I', n.nspname, c.relname), ', ') into tables
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p') and not c.relispartition
      and n.nspname <> all({kept}) and n.nspname not like 'pg\\_%'
      and not exists (select from pg_depend d where d.objid = c.oid and d.deptype = 'e');
    if tables is not null then
        execute 'truncate ' || tables || ' restart identity cascade';
    end if;
end
$reset$
""")


class DatabaseReset:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._statement: sql.Composed = sql.Composed([])

    def prepare(self, *, snapshot: bool) -> None:
        """Build the reset statement; ``snapshot`` retakes the seed rows (just migrated)."""
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            if snapshot or not _schema_exists(conn, SEED_SCHEMA):
                _snapshot_seeds(conn)
            restores = [_restore(schema, table, columns) for schema, table, columns in _seeded_tables(conn)]
        truncate = _TRUNCATE_APPLICATION_TABLES.format(kept=sql.Literal(list(KEPT_SCHEMAS)))
        # A test that leaked a transaction holding a lock fails the reset instead of hanging it.
        lock_timeout = sql.SQL("set lock_timeout = '10s'")
        self._statement = sql.SQL(";\n").join([lock_timeout, truncate, *restores])

    async def reset(self) -> None:
        """Empty the application tables and restore the seeds: one round trip."""
        async with await psycopg.AsyncConnection.connect(self.dsn, autocommit=True) as conn:
            await conn.execute(self._statement)

    def reset_blocking(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(self._statement)


def _schema_exists(conn: psycopg.Connection[Any], schema: str) -> bool:
    row = conn.execute("select exists (select from pg_namespace where nspname = %s)", [schema]).fetchone()
    return bool(row and row[0])


def _snapshot_seeds(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        sql.SQL("drop schema if exists {0} cascade; create schema {0}").format(sql.Identifier(SEED_SCHEMA))
    )
    for schema, table, columns in conn.execute(_APPLICATION_TABLES, {"kept": list(KEPT_SCHEMAS)}).fetchall():
        source = sql.Identifier(schema, table)
        row = conn.execute(sql.SQL("select exists (select from {})").format(source)).fetchone()
        if row and row[0]:
            conn.execute(
                sql.SQL("create table {} as select {} from {}").format(
                    sql.Identifier(SEED_SCHEMA, f"{schema}.{table}"),
                    sql.SQL(", ").join(map(sql.Identifier, columns)),
                    source,
                )
            )


def _seeded_tables(conn: psycopg.Connection[Any]) -> list[tuple[str, str, list[str]]]:
    rows = conn.execute(
        """select c.relname, array(select a.attname::text from pg_attribute a
                                   where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                                   order by a.attnum)
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = %s and c.relkind = 'r' order by 1""",
        [SEED_SCHEMA],
    ).fetchall()
    tables = []
    for seed_name, columns in rows:
        schema, _, table = seed_name.partition(".")
        tables.append((schema, table, columns))
    return tables


def _restore(schema: str, table: str, columns: list[str]) -> sql.Composable:
    column_list = sql.SQL(", ").join(map(sql.Identifier, columns))
    return sql.SQL("insert into {} ({}) overriding system value select {} from {}").format(
        sql.Identifier(schema, table),
        column_list,
        column_list,
        sql.Identifier(SEED_SCHEMA, f"{schema}.{table}"),
    )


@contextmanager
def embedded_postgres_folder() -> Iterator[Path]:
    """A fresh folder for an embedded Postgres data directory, removed afterwards.

    Not under pytest's tmp_path: running as root, pgserver runs Postgres as another user and
    opens the folder's parents to it, and every pytest session that starts (another
    developer's, another worktree's) closes ``/tmp/pytest-of-<user>`` again, cutting a
    running server off from its own data.
    """
    folder = Path(tempfile.mkdtemp(prefix="scout-tests-pg-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
