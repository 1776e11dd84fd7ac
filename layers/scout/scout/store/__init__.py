"""Storage: one interface for the domain code, a Postgres and a Supabase adapter behind it.

Schema and logic live in ``supabase/migrations`` as SQL functions; code calls them with
``await store.call("function_name", arg=value)`` on the store :mod:`scout.deps` builds.
See docs/storage.md.
"""

from scout.store.factory import get_store
from scout.store.protocol import Store

__all__ = ["Store", "get_store"]
