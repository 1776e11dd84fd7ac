"""Polling a source: fetch its board within a deadline, then sync the result in one store call.

Whatever the fetch does, exactly one ``sync_source_postings`` call follows it: the postings
of a successful fetch (``complete`` as the adapter judged it), or the error of a failed one,
which backs the source off and changes no posting. Only the store failing (or the source
having been deleted meanwhile, ``NotFound``) raises. Kinds with detail pages (Workday,
SmartRecruiters) make one more call first, ``posting_fingerprints``, to learn which postings
need their detail fetched (scout.jobs.details), unless the poll request's ``list_digest``
already shows that the list did not change: every source needing no detail costs one round trip.
A request claimed with a running run is synced with ``finish_source_poll``, which settles
that run too (see the poll_resilience migration). A warm process sends the postings its last
sync of the source sent, unchanged, as fingerprints only (scout.jobs.sync_payload).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx

from scout.errors import ScoutError, UpstreamFailed
from scout.jobs.boards import adapter_for, fetch_board
from scout.jobs.details import KnownPosting, KnownPostings
from scout.jobs.fetching import FetchPolicy
from scout.jobs.models import PollRun
from scout.jobs.poll_queue import PollRequest
from scout.jobs.results import FetchResult
from scout.jobs.store import JobStore
from scout.jobs.sync_payload import LAST_SYNCED, ResendPostings, as_stored_where_unchanged, with_fingerprints
from scout.observability import logger
from scout.settings import Settings
from scout.store import Store

# Kinds with detail pages start within this share of the poll's order (start_order).
DETAIL_KINDS_SPAN = 0.5


async def fetch_within(
    ats: str,
    board: str,
    *,
    deadline_seconds: float,
    settings: Settings,
    client: httpx.AsyncClient | None = None,
    known: KnownPostings | None = None,
    known_digest: str | None = None,
    policy: FetchPolicy | None = None,
) -> FetchResult:
    """``fetch_board`` bounded as a whole (each request is bounded too, but not the paging)."""
    return await fetch_board(
        ats,
        board,
        client=client,
        settings=settings,
        known=known,
        known_digest=known_digest,
        deadline_seconds=deadline_seconds,
        policy=policy,
    )


def fetched(result: FetchResult, started_at: datetime) -> dict[str, Any]:
    """A successful fetch in ``sync_source_postings``' format.

    Postings of kinds with detail pages also carry ``list_hash`` (their list entry's
    fingerprint) and ``detail`` (fetched / failed / unchanged): the sync keeps a stored
    detail for an unchanged entry and marks a failed one for a retry.
    """
    postings = []
    for posting in result.postings:
        entry = posting.model_dump(mode="json")
        detail = result.details.get(posting.external_id)
        if detail is not None:
            entry["list_hash"] = result.fingerprints.get(posting.external_id)
            entry["detail"] = detail
        postings.append(entry)
    return {
        "status": "succeeded",
        "complete": result.complete,
        "postings": postings,
        "error": None,
        "started_at": started_at.isoformat(),
    }


def known_postings(store: Store, source_id: UUID) -> KnownPostings:
    """What the store remembers of a source's list entries, asked only when details are due."""

    async def ask() -> dict[str, KnownPosting]:
        rows = await JobStore(store).posting_fingerprints(source_id)
        return {external_id: KnownPosting.model_validate(row) for external_id, row in rows.items()}

    return ask


def fetch_failed(error: ScoutError, started_at: datetime) -> dict[str, Any]:
    return {
        "status": "failed",
        "complete": False,
        "postings": [],
        "error": {"code": error.code, "message": error.message},
        "started_at": started_at.isoformat(),
    }


async def poll_source(
    request: PollRequest,
    *,
    store: Store,
    settings: Settings,
    deadline_seconds: float | None = None,
    client: httpx.AsyncClient | None = None,
    redelivered: bool = False,
    policy: FetchPolicy | None = None,
) -> PollRun:
    """Fetch one source's board and sync it: one store round trip. Returns the recorded run.

    ``redelivered``: the queue delivered this request before, to an attempt that did not
    finish; its running run is closed as failed (worker_lost) and this one is recorded anew.
    """
    started_at = datetime.now(UTC)
    try:
        result = await fetch_within(
            request.ats,
            request.board,
            deadline_seconds=deadline_seconds or settings.poll_deadline_seconds,
            settings=settings,
            client=client,
            known=known_postings(store, request.source_id),
            known_digest=request.list_digest,
            policy=policy,
        )
        outcome = fetched(result, started_at)
        if not result.complete:
            logger.info(
                "incomplete fetch; nothing will be archived",
                extra={"source_id": str(request.source_id), "warnings": result.warnings[:5]},
            )
    except ScoutError as exc:
        logger.info(
            "fetch failed",
            extra={"source_id": str(request.source_id), "ats": request.ats, "code": exc.code},
        )
        outcome = fetch_failed(exc, started_at)
    return await record(JobStore(store), request, with_fingerprints(outcome), retry=redelivered)


async def record(jobs: JobStore, request: PollRequest, outcome: dict[str, Any], *, retry: bool) -> PollRun:
    """Sync ``outcome``, the postings the last sync sent as they were sent as stored.

    A claim the store finds stale (``ResendPostings``) is followed by the whole fetch in full:
    the rare second round trip (scout.jobs.sync_payload).
    """

    async def sync(payload: dict[str, Any]) -> PollRun | ResendPostings:
        if request.run_id is None:
            return await jobs.sync_source_postings(request.source_id, payload)
        return await jobs.finish_source_poll(request.source_id, request.run_id, payload, retry=retry)

    succeeded = outcome["status"] == "succeeded"
    remembered = LAST_SYNCED.get(request.source_id) if succeeded else None
    try:
        answer = await sync(as_stored_where_unchanged(outcome, remembered))
        if isinstance(answer, ResendPostings):
            logger.info(
                "postings sent as stored were not; sending them in full",
                extra={"source_id": str(request.source_id), "stale": answer.resend[:5]},
            )
            answer = await sync(outcome)
    except ScoutError:
        LAST_SYNCED.forget(request.source_id)
        raise
    if isinstance(answer, ResendPostings):
        # Only a posting sent as stored can be refused, and the second payload has none.
        raise UpstreamFailed("The store asked to resend postings sent in full.")
    if succeeded:
        LAST_SYNCED.remember(request.source_id, outcome)
    return answer


def start_order(requests: Sequence[PollRequest]) -> list[PollRequest]:
    """The order to start polling ``requests`` in: each kind spread evenly through the poll,
    the kinds with detail pages through its first half.

    Most kinds are one host (or one API) each, capped at a few requests in flight: spread out,
    each keeps its share of the cap busy from the start to the end, instead of the kinds polled
    last queueing on their own host's cap while the others are done. Boards with detail pages
    have the longest chains of round trips (a list page, the rest of its pages, then details),
    so they come earlier, and their tails overlap the one-request boards instead of trailing
    after them.
    """
    by_kind: dict[str, list[PollRequest]] = {}
    for request in requests:
        by_kind.setdefault(request.ats, []).append(request)
    keyed = []
    for kind, of_kind in by_kind.items():
        span = DETAIL_KINDS_SPAN if adapter_for(kind).fetch_detail is not None else 1.0
        keyed += [((index + 0.5) / len(of_kind) * span, request) for index, request in enumerate(of_kind)]
    return [request for _key, request in sorted(keyed, key=lambda pair: pair[0])]


@dataclass(frozen=True)
class PollOutcome:
    request: PollRequest
    run: PollRun | None = None
    error: ScoutError | None = None  # the store failed, or the source is gone


async def poll_sources(
    requests: Sequence[PollRequest],
    *,
    store: Store,
    settings: Settings,
    concurrency: int,
    client: httpx.AsyncClient | None = None,
) -> AsyncIterator[PollOutcome]:
    """Poll many sources, at most ``concurrency`` at once, yielding each outcome as it lands.

    They start in :func:`start_order`, not as claimed.
    """
    slots = asyncio.Semaphore(concurrency)
    requests = start_order(requests)

    async def poll_one(request: PollRequest) -> PollOutcome:
        async with slots:
            try:
                run = await poll_source(request, store=store, settings=settings, client=client)
            except ScoutError as exc:
                return PollOutcome(request, error=exc)
            return PollOutcome(request, run=run)

    tasks = [asyncio.ensure_future(poll_one(request)) for request in requests]
    try:
        for next_done in asyncio.as_completed(tasks):
            yield await next_done
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
