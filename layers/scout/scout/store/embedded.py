"""An embedded Postgres (the ``pgserver`` package) for running scout with no DATABASE_URL.

The data lives in ``.scout/pg`` of the project. A server already running on that folder
(started by another ``scout`` process) is reused rather than started twice; it stops when
the last process using it stops it or exits.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from scout.store.layout import EMBEDDED_DATA_FOLDER, MIGRATIONS_FOLDER, find_project_root
from scout.store.migrations import apply_migrations

if TYPE_CHECKING:
    from scout.settings import Settings


class EmbeddedPostgres:
    """One pgserver data folder: ``start()`` gives a migrated database's DSN, ``stop()`` ends it."""

    def __init__(self, data_dir: Path, migrations_dir: Path) -> None:
        self.data_dir = data_dir
        self.migrations_dir = migrations_dir
        self._server: object | None = None
        self._dsn: str | None = None

    @property
    def dsn(self) -> str:
        if self._dsn is None:
            raise RuntimeError("the embedded Postgres is not started")
        return self._dsn

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> str:
        """Start (or join) the server, apply pending migrations, return the DSN. Blocking."""
        if self._dsn is not None:
            return self._dsn
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI, containers).
            warnings.simplefilter("ignore")
            import pgserver

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(self.data_dir, cleanup_mode="stop")
        dsn: str = server.get_uri()
        apply_migrations(dsn, self.migrations_dir)
        self._server, self._dsn = server, dsn
        return dsn

    def stop(self) -> None:
        """Let go of the server: it stops unless another process still uses it. Blocking."""
        server, self._server, self._dsn = self._server, None, None
        if server is not None:
            server.cleanup()  # type: ignore[attr-defined]  # pgserver ships no type hints


_project_servers: dict[Path, EmbeddedPostgres] = {}


def embedded_postgres(project_root: Path | None = None) -> EmbeddedPostgres:
    """The process's embedded Postgres for the project at (or above) ``project_root``."""
    root = find_project_root(project_root)
    server = _project_servers.get(root)
    if server is None:
        server = EmbeddedPostgres(root / EMBEDDED_DATA_FOLDER, root / MIGRATIONS_FOLDER)
        _project_servers[root] = server
    return server


def local_database_url(settings: Settings, project_root: Path | None = None) -> str:
    """``DATABASE_URL`` when set, else the embedded Postgres's DSN (started and migrated)."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return embedded_postgres(project_root).start()
