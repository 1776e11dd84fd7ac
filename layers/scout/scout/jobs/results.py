"""What fetching one board yields, and how adapters assemble it.

A later sync archives postings that are missing from a fetch, so ``complete`` must only be
true when every page was fetched and every count the ATS gave adds up. Anything doubtful
makes the result incomplete and says why in ``warnings``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from scout.jobs.posting import AtsKind, Posting


class MalformedPosting(ValueError):
    """One posting in an otherwise valid answer lacks what a posting needs (id, title)."""


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
        )


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
