"""Fixtures of the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.database import embedded_postgres_folder
from tests.support.local_stack import copy_real_project


@pytest.fixture
def real_project() -> Iterator[Path]:
    """The real project for `scout dev`, outside pytest's tmp folder (its embedded Postgres
    must stay reachable while other pytest sessions start: see embedded_postgres_folder)."""
    with embedded_postgres_folder() as folder:
        yield copy_real_project(folder)
