"""Polling a source: fetch its board within a deadline, then sync the result in one store call.

Whatever the fetch does, exactly one ``sync_source_postings`` call follows it: the postings
of a successful fetch (``complete`` as the adapter judged it), or the error of a failed one,
which backs the source off and changes no posting. Only the store failing (or the source
having been deleted meanwhile, ``NotFound``) raises.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from scout.errors import AtsTimeout, ScoutError
from scout.jobs.boards import fetch_board
from scout.jobs.models import PollRun
from scout.jobs.poll_queue import PollRequest
from scout.jobs.results import FetchResult
from scout.jobs.store import JobStore
from scout.observability import logger
from scout.settings import Settings
from scout.store import Store


async def fetch_within(
    ats: str,
    board: str,
    *,
    deadline_seconds: float,
    settings: Settings,
    client: httpx.AsyncClient | None = None,
) -> FetchResult:
    """``fetch_board`` bounded as a whole (it bounds each request, not the paging)."""
    try:
        async with asyncio.timeout(deadline_seconds):
            return await fetch_board(ats, board, client=client, settings=settings)
    except TimeoutError:
        raise AtsTimeout(f"the board did not finish answering within {deadline_seconds:g} s") from None


def fetched(result: FetchResult, started_at: datetime) -> dict[str, Any]:
    """A successful fetch in ``sync_source_postings``' format."""
    return {
        "status": "succeeded",
        "complete": result.complete,
        "postings": [posting.model_dump(mode="json") for posting in result.postings],
        "error": None,
        "started_at": started_at.isoformat(),
    }


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
) -> PollRun:
    """Fetch one source's board and sync it: one store round trip. Returns the recorded run."""
    started_at = datetime.now(UTC)
    try:
        result = await fetch_within(
            request.ats,
            request.board,
            deadline_seconds=deadline_seconds or settings.poll_deadline_seconds,
            settings=settings,
            client=client,
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
    return await JobStore(store).sync_source_postings(request.source_id, outcome)


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
    """Poll many sources, at most ``concurrency`` at once, yielding each outcome as it lands."""
    slots = asyncio.Semaphore(concurrency)

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
