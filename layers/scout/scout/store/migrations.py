"""Applies ``supabase/migrations/*.sql`` to a database: local development and tests.

In production the Supabase CLI applies the same files. Here each file runs once, in
filename order, in its own transaction, and is recorded with its checksum in
``scout_meta.schema_migrations``. Runners are serialised with an advisory lock, so two
processes starting at once apply every file exactly once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

# The Supabase CLI's layout: <14-digit UTC timestamp>_<name>.sql, applied in that order.
MIGRATION_FILENAME = re.compile(r"(?P<version>\d{14})_(?P<name>[a-z0-9_]+)\.sql")
MIGRATION_LOCK_KEY = 0x5C0_0DB_0001  # pg_advisory_lock key shared by every runner

_BOOKKEEPING = """
create schema if not exists scout_meta;
create table if not exists scout_meta.schema_migrations (
    version text primary key,
    name text not null,
    checksum text not null,
    applied_at timestamptz not null default now()
);
"""


class MigrationError(RuntimeError):
    """A migration folder or database the runner refuses to work with."""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path
    sql: str
    checksum: str

    @property
    def filename(self) -> str:
        return self.path.name


def discover_migrations(folder: Path) -> list[Migration]:
    """Every ``*.sql`` file of ``folder`` in apply order; a misnamed one is an error."""
    if not folder.is_dir():
        raise MigrationError(f"migrations folder {folder} does not exist")
    migrations: list[Migration] = []
    for path in sorted(folder.glob("*.sql")):
        match = MIGRATION_FILENAME.fullmatch(path.name)
        if match is None:
            raise MigrationError(
                f"migration {path.name} is misnamed: use <YYYYMMDDHHMMSS>_<lower_case_name>.sql, "
                "so filename order is apply order"
            )
        content = path.read_bytes()
        migrations.append(
            Migration(
                version=match["version"],
                name=match["name"],
                path=path,
                sql=content.decode("utf-8"),
                checksum=hashlib.sha256(content).hexdigest(),
            )
        )
    versions = [migration.version for migration in migrations]
    duplicates = sorted({version for version in versions if versions.count(version) > 1})
    if duplicates:
        raise MigrationError(f"more than one migration has version {', '.join(duplicates)}")
    return migrations


def apply_migrations(dsn: str, folder: Path) -> list[Migration]:
    """Apply the migrations of ``folder`` not yet applied to ``dsn``; return those applied.

    Refuses (``MigrationError``, nothing applied) when an applied file has changed since.
    A file that fails is rolled back and reported; the files before it stay applied.
    """
    migrations = discover_migrations(folder)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
        try:
            conn.execute(_BOOKKEEPING)
            applied: dict[str, str] = dict(
                conn.execute("select version, checksum from scout_meta.schema_migrations").fetchall()
            )
            _refuse_changed(migrations, applied)
            pending = [migration for migration in migrations if migration.version not in applied]
            for migration in pending:
                _apply_one(conn, migration)
            return pending
        finally:
            conn.execute("select pg_advisory_unlock(%s)", [MIGRATION_LOCK_KEY])


def _refuse_changed(migrations: list[Migration], applied: dict[str, str]) -> None:
    changed = [m.filename for m in migrations if m.version in applied and applied[m.version] != m.checksum]
    if changed:
        raise MigrationError(
            f"applied migration(s) changed since: {', '.join(changed)}; never edit an applied "
            "migration, add a new one (locally: delete .scout/pg to start over)"
        )


def _apply_one(conn: psycopg.Connection, migration: Migration) -> None:
    try:
        with conn.transaction():
            # No parameters: psycopg sends the file as one simple query, many statements.
            conn.execute(migration.sql.encode("utf-8"))
            conn.execute(
                "insert into scout_meta.schema_migrations (version, name, checksum) values (%s, %s, %s)",
                [migration.version, migration.name, migration.checksum],
            )
    except psycopg.Error as exc:
        raise MigrationError(f"migration {migration.filename} failed: {exc}") from exc
