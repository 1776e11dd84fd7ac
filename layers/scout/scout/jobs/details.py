"""Detail pages: completing postings whose board lists leave the description out.

Workday and SmartRecruiters list a posting's title, place and date; its text (and for Workday
the real start date, job type and every location) is on one detail page per posting. A poll
fetches a detail only for a posting that is new to the source, whose list entry changed since
the detail was stored (its fingerprint differs), or whose last detail failed; an unchanged
board costs no detail request at all.

A detail only enriches a posting: the list is what proves it live. So a detail that fails or
runs past the deadline keeps the list's posting, marks it for a retry on the next poll, and
leaves the fetch exactly as complete as the list made it.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Mapping

from pydantic import BaseModel, ConfigDict, ValidationError

from scout.errors import AtsError
from scout.jobs.ats.adapter import AtsAdapter
from scout.jobs.fetching import AtsSession
from scout.jobs.posting import Posting
from scout.jobs.results import DetailState, FetchResult, MalformedPosting
from scout.observability import logger
from scout.settings import Settings


class KnownPosting(BaseModel):
    """What the store remembers of a posting's list entry and detail."""

    model_config = ConfigDict(frozen=True)

    list_hash: str | None = None
    detail_pending: bool = False


KnownPostings = Callable[[], Awaitable[Mapping[str, KnownPosting]]]


def list_digest(result: FetchResult) -> str | None:
    """One hash over a fetched list's fingerprints, as ``private.list_digest`` hashes the stored ones."""
    if not result.fingerprints:
        return None
    joined = ",".join(
        f"{external_id}:{result.fingerprints[external_id]}" for external_id in sorted(result.fingerprints)
    )
    return hashlib.md5(joined.encode(), usedforsecurity=False).hexdigest()


def all_unchanged(result: FetchResult) -> dict[str, KnownPosting]:
    """What the store holds when its digest equals the fetched list's: every entry, detailed."""
    return {external_id: KnownPosting(list_hash=value) for external_id, value in result.fingerprints.items()}


def needs_detail(external_id: str, result: FetchResult, known: Mapping[str, KnownPosting] | None) -> bool:
    """New to the source, changed in the list, or its last detail failed (None: know nothing)."""
    if known is None:
        return True
    stored = known.get(external_id)
    return stored is None or stored.detail_pending or stored.list_hash != result.fingerprints.get(external_id)


async def add_details(
    result: FetchResult,
    adapter: AtsAdapter,
    session: AtsSession,
    settings: Settings,
    *,
    known: Mapping[str, KnownPosting] | None,
    seconds_left: float | None,
) -> FetchResult:
    """``result`` with the details it needs merged in and ``details`` saying what happened."""
    fetch_detail = adapter.fetch_detail
    if fetch_detail is None or not result.detail_keys:
        return result
    wanted = [
        posting
        for posting in result.postings
        if posting.external_id in result.detail_keys and needs_detail(posting.external_id, result, known)
    ]
    states: dict[str, DetailState] = {
        posting.external_id: "unchanged"
        for posting in result.postings
        if posting.external_id in result.detail_keys
    }
    enriched: dict[str, Posting] = {}

    async def one(posting: Posting) -> None:
        key = result.detail_keys[posting.external_id]
        try:
            enriched[posting.external_id] = await fetch_detail(result.board, posting, key, session, settings)
        except (AtsError, MalformedPosting, ValidationError, ValueError, TypeError, KeyError) as exc:
            states[posting.external_id] = "failed"
            logger.info(
                "posting detail failed; the list's posting is kept and retried next poll",
                extra={"ats": result.ats, "external_id": posting.external_id, "error": str(exc)[:200]},
            )
        else:
            states[posting.external_id] = "fetched"

    tasks = [asyncio.ensure_future(one(posting)) for posting in wanted]
    if tasks:
        _done, late = await asyncio.wait(
            tasks, timeout=None if seconds_left is None else max(seconds_left, 0)
        )
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        for posting in wanted:
            if posting.external_id not in enriched:
                states[posting.external_id] = "failed"
        if late:
            logger.info(
                "posting details ran past the deadline; retried next poll",
                extra={"ats": result.ats, "board": result.board, "late": len(late)},
            )
    postings = [enriched.get(posting.external_id, posting) for posting in result.postings]
    return result.model_copy(update={"postings": postings, "details": states})
