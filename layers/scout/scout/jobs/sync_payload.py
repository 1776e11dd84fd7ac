"""A sync's payload sized to what changed: content only for the postings the store lacks.

Most polls find a board as it was. Sending its every posting in full (a 5,000-posting board is
about 16 MB of JSON) made an unchanged re-poll cost the parse of content the store already
holds (bench.search, sync). So each entry carries a fingerprint (a hash of the whole entry),
and a warm poller remembers, per source, the fingerprints its last successful sync sent. An
entry whose fingerprint is the remembered one goes as ``{"external_id", "fingerprint",
"as_stored": true}``; the others go in full.

The memory is only a hint: ``sync_source_postings`` checks every such claim against the
stored row and, if one fails (another process synced the source since, a posting was
deleted), writes nothing and answers ``{"resend": [...]}``; the poller then sends the whole
fetch in full (``scout.jobs.polling``). A cold process sends in full: one round trip either way.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from pydantic_core import to_json

# About 165 bytes a posting (tracemalloc, 7-digit ids): 200,000 remembered stay near 33 MB.
REMEMBERED_POSTINGS = 200_000


def entry_fingerprint(entry: Mapping[str, Any]) -> str:
    """A hash of one posting entry as the sync receives it (list_hash and detail included).

    Stable across processes (a cold one must find the fingerprints stored, or it would record
    them all again) and cheap: pydantic-core's encoder and SHA-1 take about a third of what
    ``json.dumps`` and MD5 took over a 16 MB board (measured). Keys keep the order
    ``scout.jobs.polling.fetched`` gives them; another order (or encoder) would only cost one
    write per posting, recording the new fingerprints.
    """
    return hashlib.sha1(to_json(entry), usedforsecurity=False).hexdigest()[:32]


def with_fingerprints(outcome: dict[str, Any]) -> dict[str, Any]:
    """``outcome`` (``scout.jobs.polling.fetched``) with each posting's fingerprint added."""
    postings = [entry | {"fingerprint": entry_fingerprint(entry)} for entry in outcome["postings"]]
    return outcome | {"postings": postings}


def as_stored_where_unchanged(
    outcome: dict[str, Any], remembered: Mapping[str, str] | None
) -> dict[str, Any]:
    """``outcome`` with each posting whose fingerprint is the remembered one sent without content."""
    if not remembered:
        return outcome
    postings = [
        {"external_id": entry["external_id"], "fingerprint": entry["fingerprint"], "as_stored": True}
        if remembered.get(entry["external_id"]) == entry["fingerprint"]
        else entry
        for entry in outcome["postings"]
    ]
    return outcome | {"postings": postings}


def content_entries(payload: Mapping[str, Any]) -> int:
    """How many postings of a payload carry their content (the rest are sent as stored)."""
    return sum(1 for entry in payload["postings"] if not entry.get("as_stored"))


class ResendPostings(BaseModel):
    """The sync's answer when postings sent as stored are not: nothing was recorded."""

    resend: list[str]


class SyncedFingerprints:
    """Per source, the fingerprints of the postings its last successful sync sent.

    Least recently synced sources are forgotten first once ``capacity`` postings are held.
    """

    def __init__(self, capacity: int = REMEMBERED_POSTINGS) -> None:
        self._capacity = capacity
        self._sources: OrderedDict[UUID, dict[str, str]] = OrderedDict()
        self._held = 0

    def get(self, source_id: UUID) -> Mapping[str, str] | None:
        return self._sources.get(source_id)

    def remember(self, source_id: UUID, synced: Mapping[str, Any]) -> None:
        """After ``synced`` (a payload with fingerprints) was recorded for ``source_id``."""
        self.forget(source_id)
        fingerprints = {entry["external_id"]: entry["fingerprint"] for entry in synced["postings"]}
        if len(fingerprints) > self._capacity:
            return
        self._sources[source_id] = fingerprints
        self._held += len(fingerprints)
        while self._held > self._capacity:
            _, dropped = self._sources.popitem(last=False)
            self._held -= len(dropped)

    def forget(self, source_id: UUID) -> None:
        dropped = self._sources.pop(source_id, None)
        if dropped is not None:
            self._held -= len(dropped)


# The warm process's memory, kept across polls as the handlers keep their clients.
LAST_SYNCED = SyncedFingerprints()
