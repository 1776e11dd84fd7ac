"""The local stack's Postgres: ``DATABASE_URL`` when set, else the embedded server of
``scout.store.embedded`` (data in ``.scout/pg``), with the migrations applied either way.

The store package is imported lazily: a build without it still runs the rest of the stack and
says in the banner that no database was started.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scout.local.dev_settings import state_dir


@dataclass
class LocalDatabase:
    url: str | None
    description: str  # one line for the banner
    _stop: Callable[[], None] = field(default=lambda: None)

    def stop(self) -> None:
        stop, self._stop = self._stop, lambda: None
        stop()


def _optional_module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and name.startswith(exc.name):
            return None
        raise


def provide_database(root: Path, environ: Mapping[str, str]) -> LocalDatabase:
    url = environ.get("DATABASE_URL")
    if url:
        database = LocalDatabase(url, "DATABASE_URL from the environment")
    else:
        embedded = _optional_module("scout.store.embedded")
        start = getattr(embedded, "start", None) if embedded is not None else None
        if start is None:
            return LocalDatabase(None, "not started: this build has no embedded Postgres; set DATABASE_URL")
        # Seam: scout.store.embedded.start(data_dir) -> object with .url and .stop()
        server = start(state_dir(root) / "pg")
        database = LocalDatabase(str(server.url), f"embedded, data in {state_dir(root).name}/pg", server.stop)
    migrations = _optional_module("scout.store.migrations")
    apply = getattr(migrations, "apply_migrations", None) if migrations is not None else None
    if apply is None:
        database.description += "; migrations not applied (no scout.store.migrations in this build)"
        return database
    try:
        apply(database.url)
    except Exception:
        database.stop()
        raise
    database.description += "; migrations applied"
    return database
