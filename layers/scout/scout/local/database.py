"""The local stack's Postgres: ``DATABASE_URL`` when set, else the embedded server of
``scout.store.embedded`` (data in ``.scout/pg``), with the migrations applied either way."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from scout.store.embedded import EmbeddedPostgres
from scout.store.layout import EMBEDDED_DATA_FOLDER, MIGRATIONS_FOLDER
from scout.store.migrations import apply_migrations


@dataclass
class LocalDatabase:
    url: str | None
    description: str  # one line for the banner
    _stop: Callable[[], None] = field(default=lambda: None)

    def stop(self) -> None:
        stop, self._stop = self._stop, lambda: None
        stop()


def provide_database(
    root: Path, environ: Mapping[str, str], log: Callable[[str], None] | None = None
) -> LocalDatabase:
    """``log``: watch the embedded server and restart it when it dies, saying so there."""
    url = environ.get("DATABASE_URL")
    migrations = root / MIGRATIONS_FOLDER
    if url:
        if not migrations.is_dir():
            return LocalDatabase(url, "DATABASE_URL from the environment (this project has no migrations)")
        applied = apply_migrations(url, migrations)
        return LocalDatabase(url, f"DATABASE_URL from the environment; {len(applied)} migrations applied")
    if not migrations.is_dir():
        # A stack without SQL (such as a test template) needs no database.
        return LocalDatabase(None, f"not started: no {MIGRATIONS_FOLDER} folder in this project")
    server = EmbeddedPostgres(root / EMBEDDED_DATA_FOLDER, migrations)
    dsn = server.start()
    if log is not None:
        server.watch(log)
    return LocalDatabase(dsn, f"embedded, data in {EMBEDDED_DATA_FOLDER}; migrations applied", server.stop)
