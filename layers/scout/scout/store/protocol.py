"""The one storage interface every domain module codes against."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Store(Protocol):
    """Calls the SQL functions of ``supabase/migrations`` (see docs/storage.md).

    ``call("sync_source_postings", source_id=..., postings=[...])`` runs
    ``public.sync_source_postings(source_id => ..., postings => ...)`` as its own
    transaction in one round trip and returns the function's jsonb result, decoded.
    """

    round_trips: int
    """Database round trips made so far (benchmarks read it)."""

    async def call(self, function: str, /, **args: Any) -> Any: ...

    async def aclose(self) -> None: ...
