"""What fetching one board yields, and how adapters assemble it.

A later sync archives postings that are missing from a fetch, so ``complete`` must only be
true when every page was fetched and every count the ATS gave adds up. Anything doubtful
makes the result incomplete and says why in ``warnings``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from scout.jobs.posting import AtsKind, Posting


class MalformedPosting(ValueError):
    """One posting in an otherwise valid answer lacks what a posting needs (id, title)."""


# What happened to a posting's detail page in this fetch (kinds whose lists lack the details):
# fetched and merged, failed (the list's data kept, retried next poll), or not fetched because
# the list entry is the one stored with an earlier detail.
DetailState = Literal["fetched", "failed", "unchanged"]


class FetchResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    ats: AtsKind
    board: str
    complete: bool
    postings: list[Posting]
    warnings: list[str] = Field(default_factory=list)
    # The ATS's own count of open postings, where it gives one (before any de-duplication).
    reported_total: int | None = None
    pages: int = 0
    fetched_at: datetime
    # Kinds with detail pages: each posting's list-entry fingerprint, the key its detail is
    # fetched by, and (once details were considered) what happened to its detail.
    fingerprints: dict[str, str] = Field(default_factory=dict)
    detail_keys: dict[str, str] = Field(default_factory=dict)
    details: dict[str, DetailState] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _incomplete_says_why(self) -> FetchResult:
        if not self.complete and not self.warnings:
            raise ValueError("an incomplete fetch must carry a warning saying why")
        return self


class FetchResultBuilder:
    """Collects postings and doubts while an adapter pages through a board."""

    def __init__(self, ats: AtsKind, board: str, *, fetched_at: datetime | None = None) -> None:
        self.ats: AtsKind = ats
        self.board = board
        self.fetched_at = fetched_at or datetime.now(UTC)
        self.pages = 0
        self.reported_total: int | None = None
        self._postings: dict[str, Posting] = {}
        self._warnings: list[str] = []
        self._complete = True
        self._duplicates = 0
        self._entry_hashes: dict[str, list[str]] = {}
        self._detail_keys: dict[str, str] = {}

    def incomplete(self, reason: str) -> None:
        self._complete = False
        self._warnings.append(reason)

    def note(self, message: str) -> None:
        """A warning that does not put completeness in doubt."""
        self._warnings.append(message)

    def add(self, posting: Posting) -> None:
        if posting.external_id in self._postings:
            self._duplicates += 1
            return
        self._postings[posting.external_id] = posting

    def add_each(self, raws: Iterable[Any], normalise: Callable[[Any], Posting | None]) -> None:
        """Normalise and add each raw posting; ``normalise`` returns None to drop one on purpose.

        A posting that cannot be normalised is not silently skipped: it still exists on the
        board, so the fetch becomes incomplete (archiving it would be wrong).
        """
        for raw in raws:
            try:
                posting = normalise(raw)
            except (MalformedPosting, ValidationError, KeyError, TypeError, ValueError) as exc:
                self.incomplete(f"skipped a posting that could not be read: {_short(exc)}")
                continue
            if posting is not None:
                self.add(posting)

    def list_entry(self, external_id: str, raw: Any, detail_key: str) -> None:
        """Remember a list entry of a posting whose detail page holds the rest of it.

        A posting listed several times (Workday repeats a requisition per location) gets one
        fingerprint over all its entries; its detail is fetched by the first entry's key.
        """
        self._entry_hashes.setdefault(external_id, []).append(fingerprint(raw))
        self._detail_keys.setdefault(external_id, detail_key)

    @property
    def count(self) -> int:
        return len(self._postings)

    def result(self) -> FetchResult:
        warnings = list(self._warnings)
        if self._duplicates:
            warnings.append(f"ignored {self._duplicates} repeated posting(s) with an id already seen")
        return FetchResult(
            ats=self.ats,
            board=self.board,
            complete=self._complete,
            postings=list(self._postings.values()),
            warnings=warnings,
            reported_total=self.reported_total,
            pages=self.pages,
            fetched_at=self.fetched_at,
            fingerprints={
                external_id: hashes[0] if len(hashes) == 1 else fingerprint(sorted(hashes))
                for external_id, hashes in self._entry_hashes.items()
                if external_id in self._postings
            },
            detail_keys={key: value for key, value in self._detail_keys.items() if key in self._postings},
        )


def fingerprint(raw: Any) -> str:
    """A short, stable hash of a JSON value (key order does not matter)."""
    encoded = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.blake2b(encoded.encode(), digest_size=12).hexdigest()


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
