"""``scout poll``: what the scheduler and the worker do, in one process, with progress.

Sources are claimed (leased) the same way the scheduler claims them, so a poll started here
and a running ``scout dev`` schedule do not poll the same source twice at once.
"""

from __future__ import annotations

from typing import TextIO
from uuid import UUID

import httpx

from scout.jobs.poll_queue import PollRequest
from scout.jobs.polling import PollOutcome, poll_sources
from scout.jobs.store import JobStore
from scout.settings import Settings
from scout.store import Store

MAX_SOURCES = 10000
BAR_WIDTH = 30


async def poll_into_store(
    settings: Settings,
    *,
    source_id: UUID | None,
    concurrency: int,
    out: TextIO,
    progress: TextIO,
    store: Store,
    client: httpx.AsyncClient | None = None,
) -> int:
    """Poll one source or every enabled one; a summary line per source. 1 if any poll failed."""
    requests = await _claim(store, settings, source_id)
    if not requests:
        out.write("no enabled sources to poll\n")
        return 0
    bar = ProgressLine(len(requests), progress)
    failed = 0
    async for outcome in poll_sources(
        requests, store=store, settings=settings, concurrency=concurrency, client=client
    ):
        bar.clear()
        out.write(summary_line(outcome) + "\n")
        out.flush()
        failed += outcome.run is None or outcome.run.status == "failed"
        bar.advance()
    bar.clear()
    out.write(f"polled {len(requests)} source(s): {len(requests) - failed} succeeded, {failed} failed\n")
    return 1 if failed else 0


async def _claim(store: Store, settings: Settings, source_id: UUID | None) -> list[PollRequest]:
    jobs = JobStore(store)
    if source_id is not None:
        return [await jobs.request_poll(source_id, settings.poll_lease_seconds)]
    return await jobs.claim_due_polls(MAX_SOURCES, settings.poll_lease_seconds, due_only=False)


def summary_line(outcome: PollOutcome) -> str:
    name = f"{outcome.request.ats} {outcome.request.board}"
    run = outcome.run
    if run is None:
        assert outcome.error is not None
        return f"{name}: not polled ({outcome.error.code}): {outcome.error.message}"
    if run.status == "failed":
        error = run.error
        detail = f"{error.code}: {error.message}" if error is not None else "unknown error"
        return f"{name}: failed ({detail})"
    notes = []
    if not run.complete:
        notes.append("incomplete")
    if run.guard is not None:
        notes.append(f"archiving held back: {run.guard}")
    suffix = f" [{'; '.join(notes)}]" if notes else ""
    return (
        f"{name}: {run.fetched} fetched, {run.upserted} new or changed, "
        f"{run.archived} archived, {run.relisted} relisted{suffix}"
    )


class ProgressLine:
    """A one-line progress bar on a terminal; silent when the stream is not one."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.done = 0
        self.stream = stream
        self.live = stream.isatty()
        self._draw()

    def advance(self) -> None:
        self.done += 1
        self._draw()

    def clear(self) -> None:
        if self.live:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def _draw(self) -> None:
        if not self.live:
            return
        filled = BAR_WIDTH * self.done // max(self.total, 1)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} sources polled")
        self.stream.flush()
