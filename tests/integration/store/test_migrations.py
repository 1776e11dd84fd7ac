"""The migration runner on real Postgres: order, bookkeeping, idempotence, refusal, locking."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from scout.store.migrations import MIGRATION_LOCK_KEY, MigrationError, apply_migrations
from tests.conftest import MIGRATIONS_DIR


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, content in files.items():
        (folder / name).write_text(content)


def _rows(dsn: str, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query.encode()).fetchall()


def _table_exists(dsn: str, table: str) -> bool:
    return _rows(dsn, f"select to_regclass('public.{table}') is not null")[0][0] is True


def _wait_until(condition: Callable[[], bool], bound_seconds: float = 15.0) -> None:
    deadline = time.monotonic() + bound_seconds
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.01)


def test_migrations_apply_in_filename_order_and_are_recorded(scratch_database: str, tmp_path: Path) -> None:
    # Given two migrations, the later one depending on the earlier
    _write(
        tmp_path,
        {
            "20260101000002_postings.sql": "create table postings (source_id int references sources (id));",
            "20260101000001_sources.sql": "create table sources (id int primary key);",
        },
    )
    # When they are applied
    applied = apply_migrations(scratch_database, tmp_path)
    # Then they ran in filename order and each is recorded with its checksum
    assert [m.filename for m in applied] == ["20260101000001_sources.sql", "20260101000002_postings.sql"]
    recorded = _rows(
        scratch_database,
        "select version, name, checksum, applied_at is not null"
        " from scout_meta.schema_migrations order by version",
    )
    assert recorded == [
        (
            "20260101000001",
            "sources",
            hashlib.sha256(b"create table sources (id int primary key);").hexdigest(),
            True,
        ),
        (
            "20260101000002",
            "postings",
            hashlib.sha256(b"create table postings (source_id int references sources (id));").hexdigest(),
            True,
        ),
    ]


def test_a_second_run_applies_nothing(scratch_database: str, tmp_path: Path) -> None:
    # Given a migration that inserts a row, applied once
    _write(tmp_path, {"20260101000001_seed.sql": "create table runs (n int); insert into runs values (1);"})
    apply_migrations(scratch_database, tmp_path)
    # When the runner runs again
    applied = apply_migrations(scratch_database, tmp_path)
    # Then nothing ran twice
    assert applied == []
    assert _rows(scratch_database, "select count(*) from runs") == [(1,)]


def test_a_migration_added_later_is_applied_by_the_next_run(scratch_database: str, tmp_path: Path) -> None:
    _write(tmp_path, {"20260101000001_a.sql": "create table a (id int);"})
    apply_migrations(scratch_database, tmp_path)
    _write(tmp_path, {"20260101000002_b.sql": "create table b (id int);"})
    applied = apply_migrations(scratch_database, tmp_path)
    assert [m.filename for m in applied] == ["20260101000002_b.sql"]
    assert _table_exists(scratch_database, "b")


def test_a_changed_applied_migration_is_refused_and_nothing_is_applied(
    scratch_database: str, tmp_path: Path
) -> None:
    # Given an applied migration that was edited afterwards, and a new one
    _write(tmp_path, {"20260101000001_a.sql": "create table a (id int);"})
    apply_migrations(scratch_database, tmp_path)
    _write(
        tmp_path,
        {
            "20260101000001_a.sql": "create table a (id bigint);",
            "20260101000002_b.sql": "create table b (id int);",
        },
    )
    # When the runner runs, then it refuses, naming the changed file
    with pytest.raises(MigrationError, match=r"changed since: 20260101000001_a\.sql"):
        apply_migrations(scratch_database, tmp_path)
    # And it applied nothing
    assert not _table_exists(scratch_database, "b")


def test_a_failing_migration_is_rolled_back_whole_and_not_recorded(
    scratch_database: str, tmp_path: Path
) -> None:
    # Given a good migration and one that fails after its first statement
    _write(
        tmp_path,
        {
            "20260101000001_good.sql": "create table good (id int);",
            "20260101000002_bad.sql": "create table half_done (id int);\nselect 1 / 0;",
        },
    )
    # When they are applied, then the failure names the file
    with pytest.raises(MigrationError, match=r"20260101000002_bad\.sql failed: division by zero"):
        apply_migrations(scratch_database, tmp_path)
    # And the failed file left nothing, while the one before it stays applied
    assert not _table_exists(scratch_database, "half_done")
    assert _table_exists(scratch_database, "good")
    assert _rows(scratch_database, "select version from scout_meta.schema_migrations") == [
        ("20260101000001",)
    ]
    # And once fixed, it applies
    _write(tmp_path, {"20260101000002_bad.sql": "create table half_done (id int);"})
    assert [m.name for m in apply_migrations(scratch_database, tmp_path)] == ["bad"]


def test_a_runner_waits_while_another_holds_the_migration_lock(scratch_database: str, tmp_path: Path) -> None:
    _write(tmp_path, {"20260101000001_a.sql": "create table a (id int);"})
    # Given another runner holding the migration lock
    with psycopg.connect(scratch_database, autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
        with ThreadPoolExecutor(max_workers=1) as pool:
            # When a runner starts
            running = pool.submit(apply_migrations, scratch_database, tmp_path)

            def runner_is_waiting() -> bool:
                row = holder.execute(
                    "select count(*) from pg_locks where locktype = 'advisory' and not granted"
                    " and database = (select oid from pg_database where datname = current_database())"
                ).fetchone()
                return row is not None and row[0] == 1

            # Then it waits for the lock and applies nothing meanwhile
            _wait_until(runner_is_waiting)
            assert not running.done()
            assert not _table_exists(scratch_database, "a")
            # And once the lock is released it applies its migrations
            holder.execute("select pg_advisory_unlock(%s)", [MIGRATION_LOCK_KEY])
            applied = running.result(timeout=30)
    assert [m.filename for m in applied] == ["20260101000001_a.sql"]


def test_the_project_migrations_apply_to_an_empty_database_once(scratch_database: str) -> None:
    # When the project's migrations are applied to a new database, twice
    first = apply_migrations(scratch_database, MIGRATIONS_DIR)
    second = apply_migrations(scratch_database, MIGRATIONS_DIR)
    # Then every file applied once and the foundation's health function answers
    assert [m.path for m in first] == sorted(MIGRATIONS_DIR.glob("*.sql"))
    assert second == []
    assert _rows(scratch_database, "select public.scout_ping() ->> 'ok'") == [("true",)]
