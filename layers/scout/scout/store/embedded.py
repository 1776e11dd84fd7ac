"""An embedded Postgres (the ``pgserver`` package) for running scout with no DATABASE_URL.

The data lives in ``.scout/pg`` of the project. A server already running on that folder
(started by another ``scout`` process) is reused rather than started twice; it stops when
the last process using it stops it or exits.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scout.store.layout import EMBEDDED_DATA_FOLDER, MIGRATIONS_FOLDER, find_project_root
from scout.store.migrations import apply_migrations

if TYPE_CHECKING:
    from scout.settings import Settings


class EmbeddedPostgres:
    """One pgserver data folder: ``start()`` gives a migrated database's DSN, ``stop()`` ends it."""

    def __init__(self, data_dir: Path, migrations_dir: Path) -> None:
        self.data_dir = data_dir
        self.migrations_dir = migrations_dir
        self._server: Any = None  # a pgserver.PostgresServer; pgserver ships no type hints
        self._dsn: str | None = None
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None
        self.restarts = 0

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
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join(timeout=15)
            self._watcher = None
        server, self._server, self._dsn = self._server, None, None
        if server is not None:
            server.cleanup()

    def is_running(self) -> bool:
        """Whether the server's postmaster is alive (False when never started)."""
        server = self._server
        if server is None:
            return False
        try:
            return bool(server.get_postmaster_info().process.is_running())
        except Exception:  # psutil errors or a postmaster.pid being rewritten: treat as down
            return False

    def restart(self) -> str:
        """Start the server again on the same data folder; its DSN (the same socket folder).

        pgserver's start step expects its cross-process lock held, as ``get_server`` holds it.
        """
        server = self._server
        if server is None:
            raise RuntimeError("the embedded Postgres was never started")
        with server._lock:
            server.ensure_postgres_running()
        dsn: str = server.get_uri()
        self.restarts += 1
        return dsn

    def watch(self, log: Callable[[str], None], interval_seconds: float = 1.0) -> None:
        """Check the server every ``interval_seconds`` and start it again when it has died.

        For ``scout dev``: a Postgres that crashed or was stopped under the stack would leave
        every function failing until someone noticed. Stops with :meth:`stop`.
        """
        if self._watcher is not None:
            return
        self._stopping.clear()

        def keep_running() -> None:
            while not self._stopping.wait(interval_seconds):
                if self.is_running():
                    continue
                log(f"[postgres] the embedded Postgres ({self.data_dir.name}) stopped; restarting it")
                try:
                    dsn = self.restart()
                except Exception as exc:  # keep watching: the next check tries again
                    log(f"[postgres] restart failed: {exc}; trying again")
                    continue
                if dsn != self._dsn:
                    log("[postgres] restarted at a different address; restart scout dev")
                else:
                    log("[postgres] restarted")

        self._watcher = threading.Thread(target=keep_running, name="postgres watch", daemon=True)
        self._watcher.start()


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
