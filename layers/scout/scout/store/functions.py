"""SQL functions declared once on the Python side: a name and typed arguments.

The typed stores (``scout.jobs.store``, ``scout.audit.store``) reach the database only
through a :class:`SqlFunction`, and a test compares every declaration with ``pg_proc`` after
the migrations ran, so a renamed argument or a changed type fails the suite instead of a
request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scout.store.protocol import Store

# SQL types as Postgres's format_type() spells them (what the drift test reads).
TEXT = "text"
INTEGER = "integer"
BOOLEAN = "boolean"
NUMERIC = "numeric"
UUID = "uuid"
TIMESTAMPTZ = "timestamp with time zone"
JSONB = "jsonb"


@dataclass(frozen=True)
class SqlFunction:
    """``public.<name>(<arguments>)``: every call passes every argument, by name."""

    name: str
    arguments: tuple[tuple[str, str], ...]

    async def call(self, store: Store, **values: Any) -> Any:
        """The function's decoded jsonb result; ``TypeError`` for a call that misses the signature.

        Arguments with an SQL default are passed too, so the default lives in one place (the
        Python caller) and a call never depends on which overload Postgres would pick.
        """
        declared = [name for name, _ in self.arguments]
        if sorted(values) != sorted(declared):
            raise TypeError(f"{self.name} takes {', '.join(declared)}; got {', '.join(sorted(values))}")
        return await store.call(self.name, **values)


def sql_function(name: str, **arguments: str) -> SqlFunction:
    """Declare ``public.name`` with its arguments in SQL order: ``p_limit=INTEGER, ...``."""
    return SqlFunction(name, tuple(arguments.items()))
