"""How a call's function name and arguments travel, the same way through both adapters.

Every argument travels as a JSON value, because that is all PostgREST can carry: the
Supabase adapter posts them as the JSON body of ``/rpc/{function}``, and PostgREST turns
each into the declared parameter type with ``json_to_record`` (the type's input function
reads the value's text). The Postgres adapter sends the same text as an untyped literal, so
Postgres converts it with the same input function. Hence one encoding, written once here.
"""

from __future__ import annotations

import enum
import json
import math
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any
from uuid import UUID

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]

# Unquoted, lower-case SQL identifiers only: they need no quoting rules of their own, and
# PostgREST finds functions and arguments by exactly these names.
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
_MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1: Postgres silently truncates longer names


def checked_identifier(name: object, what: str) -> str:
    """``name`` if it is a plain lower-case SQL identifier; ``ValueError`` otherwise."""
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name) or len(name) > _MAX_IDENTIFIER_BYTES:
        raise ValueError(f"{what} {name!r} is not a lower-case SQL identifier ([a-z_][a-z0-9_]*, 63 at most)")
    return name


def json_argument(value: Any) -> JsonValue:
    """The JSON value ``value`` travels as; ``TypeError``/``ValueError`` for what cannot."""
    if isinstance(value, enum.Enum):
        return json_argument(value.value)
    if isinstance(value, Mapping):
        return {_json_key(key): json_argument(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_argument(item) for item in value]
    return _json_scalar(value)


def _json_scalar(value: Any) -> JsonValue:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} has no JSON form")
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            # Postgres would read a naive time in the session's zone; refuse to guess.
            raise ValueError(f"datetime {value.isoformat()} has no time zone")
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"a store argument cannot be of type {type(value).__name__}")


def _json_key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
    return key


def encode_arguments(args: Mapping[str, Any]) -> dict[str, JsonValue]:
    """Every argument checked and turned into its JSON value, before any round trip."""
    return {checked_identifier(name, "argument name"): json_argument(value) for name, value in args.items()}


def json_text(value: JsonValue) -> str:
    """Compact JSON, byte for byte what the PostgREST client posts for the same value."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def literal_text(value: JsonValue) -> str | None:
    """The text Postgres's input function reads for ``value``, as ``json_to_record`` hands it.

    A JSON string is read without its quotes; every other value as its JSON text; null is
    SQL NULL.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json_text(value)
