"""Values Postgres would refuse, refused while validating the request instead.

Postgres text cannot hold a NUL character, and ``timestamptz`` input takes zone offsets up
to ±15:59 (pydantic takes ±23:59). Caught at the edge, such a value is a 400 naming its
field; caught by the store, it would be a failed call.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

MAX_ZONE_OFFSET = timedelta(hours=15, minutes=59)


def storable_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


def storable_timestamp(value: datetime) -> datetime:
    offset = value.utcoffset()
    if offset is None or abs(offset) > MAX_ZONE_OFFSET:
        raise ValueError("the time zone offset must be between -15:59 and +15:59")
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is out of range (years 1 to 9999 in UTC)") from None
    return value


StorableText = Annotated[str, AfterValidator(storable_text)]
StorableTimestamp = Annotated[AwareDatetime, AfterValidator(storable_timestamp)]
