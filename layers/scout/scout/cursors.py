"""Opaque keyset cursors for every list (jobs, companies, sources, runs, scans, history,
deliveries): the position after a page's last item, for ``?cursor=``.

A list's SQL function answers ``next``, the sort key of the last item it returned. The API
hands that out as URL-safe base64 of a small JSON object tagged with the list it belongs to,
and reads it back strictly: anything that is not a cursor this list issued is a 400 naming
the ``cursor`` field, never a 500 and never a silently restarted list.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scout.errors import InvalidCursor
from scout.store.values import StorableText, StorableTimestamp

P = TypeVar("P", bound="Position")
Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    """One page of a list: ``{"items": [...], "next_cursor": "..." | null}``."""

    items: list[Item]
    next_cursor: str | None = Field(
        default=None, description="Pass as ?cursor= for the next page; null on the last page."
    )


class Position(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    list_name: str  # which list issued it: a /companies cursor is no /jobs cursor


class JobsPosition(Position):
    list_name: str = "jobs"
    sort_at: StorableTimestamp
    id: UUID


class RankedJobsPosition(Position):
    """A /jobs page in relevance order: the tier and time of its last item, and the moment
    the first page was ranked at (freshness is judged against it on every page)."""

    list_name: str = "jobs_by_relevance"
    as_of: StorableTimestamp
    rank: int
    sort_at: StorableTimestamp
    id: UUID


class CompaniesPosition(Position):
    list_name: str = "companies"
    company: StorableText


class SourcesPosition(Position):
    list_name: str = "sources"
    company: StorableText
    id: UUID


class RunsPosition(Position):
    list_name: str = "runs"
    started_at: StorableTimestamp
    id: UUID


class NewestFirstPosition(Position):
    """A list in (created_at, id) order, newest first, as private.keyset_page pages it."""

    created_at: StorableTimestamp
    id: UUID


class ScansPosition(NewestFirstPosition):
    list_name: str = "scans"


class HistoryPosition(NewestFirstPosition):
    list_name: str = "history"


class MonitorsPosition(NewestFirstPosition):
    list_name: str = "monitors"


class MonitorRunsPosition(NewestFirstPosition):
    list_name: str = "monitor_runs"


class DeliveriesPosition(Position):
    list_name: str = "deliveries"
    attempted_at: StorableTimestamp
    id: UUID


def encode_cursor(position_type: type[Position], next_position: dict[str, Any] | None) -> str | None:
    """The cursor for a list function's ``next`` (None when the list has ended)."""
    if next_position is None:
        return None
    position = position_type.model_validate(next_position)
    text = json.dumps(position.model_dump(mode="json"), separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def decode_cursor(position_type: type[P], cursor: str | None) -> P | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(data, dict):
            raise ValueError("not an object")
        expected = position_type.model_fields["list_name"].default
        if data.get("list_name") != expected:
            raise ValueError("issued by another list")
        return position_type.model_validate(data)
    except (ValueError, UnicodeError, binascii.Error, ValidationError):
        raise InvalidCursor(
            "cursor: not a cursor this list issued; pass next_cursor from the previous page"
        ) from None
