"""How a store is built: the adapter ``SCOUT_STORE`` names, pooled per process and configuration."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from scout.runtime import Pooled, pooled
from scout.settings import Settings
from scout.store.protocol import Store

_slots: dict[str, Pooled[Store]] = {}


def get_store(settings: Settings) -> Store:
    """The process's store for ``settings`` (handlers get it from :mod:`scout.deps`).

    Created on first use and reused across warm invocations while it is open; a closed one
    is replaced. Raises ``RuntimeError`` when the chosen adapter is not configured.
    """
    key, factory = _store_factory(settings)
    slot = _slots.get(key)
    if slot is None:
        slot = pooled(factory, _is_open, _close)
        _slots[key] = slot
    return slot.get()


def _store_factory(settings: Settings) -> tuple[str, Callable[[], Store]]:
    if settings.store == "supabase":
        store_key = settings.supabase_store_key
        if settings.supabase_url is None or store_key is None:
            raise RuntimeError("SCOUT_STORE=supabase needs SUPABASE_URL and SUPABASE_SECRET_KEY")
        url = settings.supabase_url
        key = store_key.get_secret_value()

        def supabase() -> Store:
            # Imported here so the Postgres path never loads the PostgREST client (cold start).
            from scout.store.supabase import SupabaseStore

            return SupabaseStore(url, key)

        return _slot_key("supabase", url, key), supabase

    if settings.database_url is None:
        raise RuntimeError(
            "SCOUT_STORE=postgres needs DATABASE_URL "
            "(the local runner starts an embedded Postgres and sets it)"
        )
    dsn = settings.database_url.get_secret_value()

    def postgres() -> Store:
        from scout.store.postgres import PostgresStore

        return PostgresStore(dsn)

    return _slot_key("postgres", dsn), postgres


def _slot_key(*parts: str) -> str:
    # Keyed by a digest so the registry holds no second copy of a secret.
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _is_open(store: Store) -> bool:
    return not getattr(store, "closed", False)


async def _close(store: Store) -> None:
    await store.aclose()
