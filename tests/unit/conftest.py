"""Unit-test fixtures: a complete, valid environment that each test may alter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.wiring import serving_environment

USER_SECRET = "u" * 40
ADMIN_SECRET = "a" * 40
SERVICE_SECRET = "s" * 40


@pytest.fixture
def scout_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Given a fully configured environment (settings re-read for this test)."""
    for name, value in {
        "ALLOWED_HOSTS": "localhost,api.scout.test",
        "ALLOWED_ORIGINS": "https://app.scout.test",
        "SUPABASE_URL": "https://project.supabase.test",
        "SUPABASE_JWT_SECRET": USER_SECRET,
        "ADMIN_SESSION_SECRET": ADMIN_SECRET,
        "SERVICE_TOKEN_SECRET": SERVICE_SECRET,
        "SCOUT_EGRESS_ALLOW": "",
    }.items():
        monkeypatch.setenv(name, value)
    with serving_environment():
        yield monkeypatch
