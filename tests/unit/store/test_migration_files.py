"""Which files are migrations, and in what order (no database involved)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from scout.store.migrations import MigrationError, discover_migrations
from tests.conftest import MIGRATIONS_DIR


def test_migrations_are_found_in_version_order_with_their_checksums(tmp_path: Path) -> None:
    (tmp_path / "20261125000002_jobs.sql").write_text("select 2;")
    (tmp_path / "20261125000001_foundation.sql").write_text("select 1;")
    (tmp_path / "README.md").write_text("not a migration")
    found = discover_migrations(tmp_path)
    assert [(m.version, m.name) for m in found] == [
        ("20261125000001", "foundation"),
        ("20261125000002", "jobs"),
    ]
    assert found[0].checksum == hashlib.sha256(b"select 1;").hexdigest()


@pytest.mark.parametrize(
    "filename", ["0002_jobs.sql", "20261125000002-jobs.sql", "20261125000002_Jobs.sql", "jobs.sql"]
)
def test_a_misnamed_migration_is_refused_by_name(tmp_path: Path, filename: str) -> None:
    # Filename order is apply order only with the Supabase CLI's timestamp prefix.
    (tmp_path / filename).write_text("select 1;")
    with pytest.raises(MigrationError, match=f"migration {filename} is misnamed"):
        discover_migrations(tmp_path)


def test_two_migrations_with_one_version_are_refused(tmp_path: Path) -> None:
    (tmp_path / "20261125000002_jobs.sql").write_text("select 1;")
    (tmp_path / "20261125000002_audit.sql").write_text("select 2;")
    with pytest.raises(MigrationError, match="more than one migration has version 20261125000002"):
        discover_migrations(tmp_path)


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match="does not exist"):
        discover_migrations(tmp_path / "nowhere")


def test_the_project_migrations_are_well_named() -> None:
    assert discover_migrations(MIGRATIONS_DIR)[0].name == "foundation"
