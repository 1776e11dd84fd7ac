"""Where a scout checkout keeps its migrations and its local database."""

from __future__ import annotations

from pathlib import Path

MIGRATIONS_FOLDER = Path("supabase", "migrations")
EMBEDDED_DATA_FOLDER = Path(".scout", "pg")  # git-ignored with the rest of .scout/


def find_project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: the working directory) holding
    ``supabase/migrations``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MIGRATIONS_FOLDER).is_dir():
            return folder
    raise RuntimeError(f"no scout project here: no {MIGRATIONS_FOLDER} folder at or above {here}")
