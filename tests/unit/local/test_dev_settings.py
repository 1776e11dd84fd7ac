"""Development secrets: generated once, private, reused; `scout token` reads the same file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from scout.local.dev_settings import (
    SECRET_VARIABLES,
    dev_defaults,
    ensure_dev_secrets,
    secrets_path,
    token_settings,
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*SECRET_VARIABLES, "ALLOWED_HOSTS", "SUPABASE_URL", "USER_TOKEN_ISSUER"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_secrets_are_generated_once_private_and_reused(tmp_path: Path) -> None:
    # When the local stack starts twice
    first = ensure_dev_secrets(tmp_path)
    second = ensure_dev_secrets(tmp_path)
    # Then the same strong secrets come back, from a file only its owner can read
    assert first == second
    assert set(first) == set(SECRET_VARIABLES)
    assert all(len(value) >= 32 for value in first.values())
    assert stat.S_IMODE(secrets_path(tmp_path).stat().st_mode) == 0o600


def test_a_missing_secret_is_added_without_changing_the_others(tmp_path: Path) -> None:
    kept = ensure_dev_secrets(tmp_path)
    secrets_path(tmp_path).write_text(f'{{"ADMIN_SESSION_SECRET": "{kept["ADMIN_SESSION_SECRET"]}"}}')
    again = ensure_dev_secrets(tmp_path)
    assert again["ADMIN_SESSION_SECRET"] == kept["ADMIN_SESSION_SECRET"]
    assert again["SERVICE_TOKEN_SECRET"] != kept["SERVICE_TOKEN_SECRET"]


def test_dev_defaults_allow_loopback_hosts(tmp_path: Path) -> None:
    assert dev_defaults(tmp_path)["ALLOWED_HOSTS"] == "localhost,127.0.0.1"


def test_token_settings_use_the_kept_secret_when_the_environment_has_none(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    kept = ensure_dev_secrets(tmp_path)
    settings = token_settings(tmp_path)
    assert settings.admin_session_secret is not None
    assert settings.admin_session_secret.get_secret_value() == kept["ADMIN_SESSION_SECRET"]


def test_token_settings_prefer_the_environment(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    ensure_dev_secrets(tmp_path)
    clean_env.setenv("ADMIN_SESSION_SECRET", "e" * 40)
    settings = token_settings(tmp_path)
    assert settings.admin_session_secret is not None
    assert settings.admin_session_secret.get_secret_value() == "e" * 40


def test_token_settings_never_generate_secrets(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    settings = token_settings(tmp_path)
    assert settings.admin_session_secret is None
    assert not secrets_path(tmp_path).exists()
