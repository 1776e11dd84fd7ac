"""The one factory: the adapter SCOUT_STORE names, one per process, replaced once closed."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from scout.settings import Settings
from scout.store import Store, get_store
from scout.store.postgres import PostgresStore
from scout.store.supabase import SupabaseStore


def _settings(**values: object) -> Settings:
    return Settings(ALLOWED_HOSTS="localhost", **values)  # type: ignore[arg-type]


POSTGRES = {"SCOUT_STORE": "postgres", "DATABASE_URL": SecretStr("postgresql://scout@127.0.0.1:1/unit")}
SUPABASE = {
    "SCOUT_STORE": "supabase",
    "SUPABASE_URL": "http://127.0.0.1:54321",
    "SUPABASE_SERVICE_ROLE_KEY": SecretStr("unit-test-service-role-key"),
}


def test_scout_store_postgres_gives_the_postgres_adapter() -> None:
    store = get_store(_settings(**POSTGRES))
    assert isinstance(store, PostgresStore)
    assert isinstance(store, Store)


def test_scout_store_supabase_gives_the_supabase_adapter() -> None:
    assert isinstance(get_store(_settings(**SUPABASE)), SupabaseStore)


def test_the_same_settings_get_the_same_store() -> None:
    assert get_store(_settings(**POSTGRES)) is get_store(_settings(**POSTGRES))


async def test_a_closed_store_is_replaced_on_the_next_get() -> None:
    first = get_store(_settings(**SUPABASE))
    await first.aclose()
    second = get_store(_settings(**SUPABASE))
    assert second is not first
    assert isinstance(second, SupabaseStore)
    assert not second.closed


def test_postgres_without_a_database_url_is_a_configuration_error() -> None:
    with pytest.raises(RuntimeError, match="needs DATABASE_URL"):
        get_store(_settings(SCOUT_STORE="postgres", DATABASE_URL=None))


def test_supabase_settings_without_the_key_fail_when_parsed() -> None:
    with pytest.raises(ValueError, match="needs SUPABASE_URL and SUPABASE_SECRET_KEY"):
        _settings(SCOUT_STORE="supabase", SUPABASE_URL="https://project.supabase.co")
