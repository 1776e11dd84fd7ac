"""Settings fail closed at cold start."""

from __future__ import annotations

import pytest

from scout import deps
from scout.settings import load_settings


def test_missing_allowed_hosts_raises_runtime_error(scout_env: pytest.MonkeyPatch) -> None:
    # Given no ALLOWED_HOSTS
    scout_env.delenv("ALLOWED_HOSTS")
    # When / Then
    with pytest.raises(RuntimeError, match="ALLOWED_HOSTS"):
        load_settings()


@pytest.mark.parametrize("value", ["", " ", ",", " , "])
def test_empty_allowed_hosts_raises_runtime_error(scout_env: pytest.MonkeyPatch, value: str) -> None:
    scout_env.setenv("ALLOWED_HOSTS", value)
    with pytest.raises(RuntimeError, match="ALLOWED_HOSTS"):
        load_settings()


@pytest.mark.parametrize("name", ["SUPABASE_JWT_SECRET", "ADMIN_SESSION_SECRET", "SERVICE_TOKEN_SECRET"])
def test_jwt_secret_shorter_than_32_bytes_raises(scout_env: pytest.MonkeyPatch, name: str) -> None:
    # Given a 31-byte secret
    scout_env.setenv(name, "x" * 31)
    # When / Then
    with pytest.raises(RuntimeError, match=name):
        load_settings()


def test_secret_length_is_counted_in_bytes_not_characters(scout_env: pytest.MonkeyPatch) -> None:
    # Given 16 two-byte characters: 32 bytes
    scout_env.setenv("ADMIN_SESSION_SECRET", "é" * 16)
    assert load_settings().admin_session_secret is not None


def test_egress_allow_is_empty_by_default(scout_env: pytest.MonkeyPatch) -> None:
    scout_env.delenv("SCOUT_EGRESS_ALLOW")
    assert load_settings().egress_allow == ()


def test_egress_allow_parses_hosts_and_cidrs(scout_env: pytest.MonkeyPatch) -> None:
    scout_env.setenv("SCOUT_EGRESS_ALLOW", "127.0.0.2, 10.0.0.0/8,Pages.Test")
    assert load_settings().egress_allow == ("127.0.0.2", "10.0.0.0/8", "pages.test")


def test_egress_allow_with_a_bad_cidr_raises(scout_env: pytest.MonkeyPatch) -> None:
    scout_env.setenv("SCOUT_EGRESS_ALLOW", "10.0.0.0/33")
    with pytest.raises(RuntimeError, match="SCOUT_EGRESS_ALLOW"):
        load_settings()


def test_hosts_and_origins_are_comma_separated(scout_env: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.allowed_hosts == ("localhost", "api.scout.test")
    assert settings.allowed_origins == ("https://app.scout.test",)


def test_settings_are_parsed_once(scout_env: pytest.MonkeyPatch) -> None:
    assert deps.settings() is deps.settings()
