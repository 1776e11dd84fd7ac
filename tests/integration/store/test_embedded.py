"""The embedded Postgres: started, migrated, shared between processes, stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pydantic import SecretStr

from scout.settings import Settings
from scout.store.embedded import EmbeddedPostgres, embedded_postgres, local_database_url
from tests.conftest import MIGRATIONS_DIR, PROJECT_ROOT
from tests.support.database import embedded_postgres_folder


@pytest.fixture
def folder() -> Iterator[Path]:
    with embedded_postgres_folder() as path:
        yield path


@pytest.fixture
def server(folder: Path) -> Iterator[EmbeddedPostgres]:
    embedded = EmbeddedPostgres(folder / "pg", MIGRATIONS_DIR)
    try:
        yield embedded
    finally:
        embedded.stop()


def test_start_gives_a_migrated_database(server: EmbeddedPostgres) -> None:
    dsn = server.start()
    with psycopg.connect(dsn) as conn:
        row = conn.execute("select public.scout_ping() ->> 'ok'").fetchone()
    assert row == ("true",)
    assert server.start() == dsn  # started once


def test_another_process_joins_the_running_server_instead_of_starting_one(server: EmbeddedPostgres) -> None:
    # Given a running embedded server
    dsn = server.start()
    # When another process starts the embedded Postgres on the same folder
    script = (
        "import sys; from pathlib import Path; from scout.store.embedded import EmbeddedPostgres;"
        "print(EmbeddedPostgres(Path(sys.argv[1]), Path(sys.argv[2])).start())"
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "layers" / "scout")}
    other = subprocess.run(
        [sys.executable, "-c", script, str(server.data_dir), str(MIGRATIONS_DIR)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    # Then it got the same server, which is still running after that process ended
    assert other.stdout.strip() == dsn
    with psycopg.connect(dsn) as conn:
        assert conn.execute("select 1").fetchone() == (1,)


def test_stop_stops_the_server(folder: Path) -> None:
    # Given a started server
    embedded = EmbeddedPostgres(folder / "pg", MIGRATIONS_DIR)
    dsn = embedded.start()
    # When it is stopped
    embedded.stop()
    # Then nothing answers any more
    assert not (folder / "pg" / "postmaster.pid").exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(dsn, connect_timeout=2).close()
    assert not embedded.running


def test_the_project_server_keeps_its_data_in_dot_scout(tmp_path: Path) -> None:
    (tmp_path / "supabase" / "migrations").mkdir(parents=True)
    nested = tmp_path / "functions" / "jobs_api"
    nested.mkdir(parents=True)
    server = embedded_postgres(nested)
    assert server.data_dir == tmp_path.resolve() / ".scout" / "pg"
    assert server.migrations_dir == tmp_path.resolve() / "supabase" / "migrations"
    assert not server.running


def test_a_configured_database_url_is_used_without_starting_anything(tmp_path: Path) -> None:
    settings = Settings(ALLOWED_HOSTS="localhost", DATABASE_URL=SecretStr("postgresql://u@db.internal/scout"))
    assert local_database_url(settings, tmp_path) == "postgresql://u@db.internal/scout"


def test_a_watched_server_that_dies_is_restarted_on_the_same_address_and_said_so(
    server: EmbeddedPostgres,
) -> None:
    # Given a started server, watched every 0.2 s
    dsn = server.start()
    said: list[str] = []
    server.watch(said.append, interval_seconds=0.2)
    # When its postmaster dies (SIGQUIT: Postgres's immediate shutdown, as after a crash)
    postmaster = int((server.data_dir / "postmaster.pid").read_text().split()[0])
    os.kill(postmaster, signal.SIGQUIT)
    # Then it is started again, the log says so, and the same DSN connects
    deadline = time.monotonic() + 30
    while "[postgres] restarted" not in said and time.monotonic() < deadline:
        time.sleep(0.1)
    assert said[0].startswith("[postgres] the embedded Postgres (pg) stopped"), said
    assert "[postgres] restarted" in said, said
    with psycopg.connect(dsn) as conn:
        assert conn.execute("select public.scout_ping() ->> 'ok'").fetchone() == ("true",)
    assert server.restarts == 1
