"""Pointing scout at a Supabase project: the JWKS URL, the store's key, anonymous users."""

from __future__ import annotations

import pytest

from scout.auth import Strategy, policies
from scout.settings import load_settings


@pytest.fixture
def project_env(scout_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (
        "SUPABASE_JWKS_URL",
        "SUPABASE_SECRET_KEY",
        "SUPABASE_SERVICE_ROLE_KEY",
        "ALLOW_ANONYMOUS_USERS",
    ):
        scout_env.delenv(name, raising=False)
    return scout_env


def test_the_jwks_url_defaults_to_supabases_path_under_the_project_url(
    project_env: pytest.MonkeyPatch,
) -> None:
    project_env.setenv("SUPABASE_URL", "https://abcd.supabase.co/")
    assert load_settings().jwks_url == "https://abcd.supabase.co/auth/v1/.well-known/jwks.json"


def test_an_explicit_jwks_url_wins(project_env: pytest.MonkeyPatch) -> None:
    project_env.setenv("SUPABASE_JWKS_URL", "https://auth.example.com/keys.json")
    assert load_settings().jwks_url == "https://auth.example.com/keys.json"


def test_a_jwks_url_that_is_not_http_fails_the_cold_start(project_env: pytest.MonkeyPatch) -> None:
    project_env.setenv("SUPABASE_JWKS_URL", "file:///etc/keys.json")
    with pytest.raises(RuntimeError, match="SUPABASE_JWKS_URL"):
        load_settings()


def test_without_a_project_url_or_legacy_secret_user_tokens_are_off(project_env: pytest.MonkeyPatch) -> None:
    project_env.delenv("SUPABASE_URL")
    project_env.delenv("SUPABASE_JWT_SECRET")
    user = policies(load_settings())[Strategy.USER]
    assert user.signing_keys is None
    assert not user.accepts_anything


def test_a_project_url_alone_turns_user_tokens_on_without_the_legacy_path(
    project_env: pytest.MonkeyPatch,
) -> None:
    project_env.delenv("SUPABASE_JWT_SECRET")
    user = policies(load_settings())[Strategy.USER]
    assert user.signing_keys is not None
    assert user.signing_keys.url == "https://project.supabase.test/auth/v1/.well-known/jwks.json"
    assert user.secret is None
    assert user.issuer == "https://project.supabase.test/auth/v1"


def test_anonymous_users_are_refused_unless_allowed(project_env: pytest.MonkeyPatch) -> None:
    assert policies(load_settings())[Strategy.USER].allow_anonymous is False
    project_env.setenv("ALLOW_ANONYMOUS_USERS", "true")
    assert policies(load_settings())[Strategy.USER].allow_anonymous is True


SECRET_KEY = "sb_secret_0123456789abcdef"
LEGACY_KEY = "eyJhbGciOiJIUzI1NiJ9.legacy.key"


@pytest.mark.parametrize(
    ("configured", "used"),
    [
        ({"SUPABASE_SECRET_KEY": SECRET_KEY, "SUPABASE_SERVICE_ROLE_KEY": LEGACY_KEY}, SECRET_KEY),
        ({"SUPABASE_SERVICE_ROLE_KEY": LEGACY_KEY}, LEGACY_KEY),
    ],
    ids=["secret-key-first", "legacy-key-still-works"],
)
def test_the_stores_key_is_the_secret_key_else_the_legacy_one(
    project_env: pytest.MonkeyPatch, configured: dict[str, str], used: str
) -> None:
    project_env.setenv("SCOUT_STORE", "supabase")
    for name, value in configured.items():
        project_env.setenv(name, value)
    key = load_settings().supabase_store_key
    assert key is not None
    assert key.get_secret_value() == used


def test_the_supabase_store_without_either_key_fails_the_cold_start(project_env: pytest.MonkeyPatch) -> None:
    project_env.setenv("SCOUT_STORE", "supabase")
    with pytest.raises(RuntimeError, match="SUPABASE_SECRET_KEY"):
        load_settings()


@pytest.mark.parametrize("value", ["sb_publishable_0123456789abcdef", "eyJhbGciOiJIUzI1NiJ9.a.b", "secret"])
def test_a_secret_key_that_is_not_sb_secret_fails_the_cold_start(
    project_env: pytest.MonkeyPatch, value: str
) -> None:
    project_env.setenv("SUPABASE_SECRET_KEY", value)
    with pytest.raises(RuntimeError, match="SUPABASE_SECRET_KEY"):
        load_settings()
