"""Sources (the job boards scout polls): adding, listing, changing, removing, polling now."""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime
from uuid import UUID

import httpx

from scout.cursors import RunsPosition, SourcesPosition, decode_cursor
from scout.errors import QueueUnavailable, ScoutError, TrialFetchFailed
from scout.jobs.ats import workday
from scout.jobs.boards import canonical_board
from scout.jobs.detect import detect_board
from scout.jobs.models import NewSource, PollQueued, PollRunPage, Source, SourceChanges, SourcePage
from scout.jobs.poll_queue import PollQueue
from scout.jobs.polling import fetch_within, fetched
from scout.jobs.store import JobStore
from scout.settings import Settings
from scout.store import Store

# Host labels that name a careers site rather than the company ("careers.acme.com").
_GENERIC_HOST_LABELS = frozenset(
    {"www", "careers", "career", "jobs", "job", "apply", "boards", "work", "join"}
)


async def add_source(
    new: NewSource,
    *,
    store: Store,
    settings: Settings,
    client: httpx.AsyncClient | None = None,
) -> Source:
    """Recognise the board, fetch it once, and keep it (with what that fetch found).

    The trial fetch must succeed and find something to trust: a board that errors, or a page
    that yields no posting and cannot say it is complete, is refused (``trial_fetch_failed``).
    """
    if new.url is not None:
        detected = await detect_board(new.url, settings=settings, client=client)
        ats, board = detected.ats, detected.board
    else:
        # NewSource guarantees both when there is no url.
        assert new.ats is not None
        assert new.board is not None
        ats, board = new.ats, canonical_board(new.ats, new.board)

    started_at = datetime.now(UTC)
    try:
        result = await fetch_within(
            ats, board, deadline_seconds=settings.poll_deadline_seconds, settings=settings, client=client
        )
    except ScoutError as exc:
        raise TrialFetchFailed(
            f"the {ats} board {board} could not be fetched ({exc.code}): {exc.message}"
        ) from None
    if not result.complete and not result.postings:
        reason = result.warnings[0] if result.warnings else "no postings"
        raise TrialFetchFailed(f"the {ats} board {board} yielded no postings: {reason}")

    return await JobStore(store).create_source(
        ats, board, new.company or company_from_board(ats, board), fetched(result, started_at)
    )


def company_from_board(ats: str, board: str) -> str:
    """A readable company name from a board id: "acme-robotics" -> "Acme Robotics"."""
    if ats == "workday":
        parsed = workday.parse_careers_url(board)
        name = parsed.tenant if parsed is not None else board
    elif ats == "jsonld":
        host = httpx.URL(board).host
        if _is_ip_address(host):
            return host
        name = _site_name(host)
    else:
        name = board
    words = [word for word in re.split(r"[-_.\s]+", name) if word]
    if not words:
        return board[:200]
    if name == name.lower():
        words = [word.capitalize() for word in words]
    return " ".join(words)[:200]


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _site_name(host: str) -> str:
    """The label naming the company in a careers host: careers.acme.co.uk -> acme."""
    labels = host.lower().split(".")
    while len(labels) > 2 and labels[0] in _GENERIC_HOST_LABELS:
        labels = labels[1:]
    return labels[0]


async def list_sources(cursor: str | None, limit: int, *, store: Store) -> SourcePage:
    return await JobStore(store).list_sources(decode_cursor(SourcesPosition, cursor), limit)


async def change_source(source_id: UUID, changes: SourceChanges, *, store: Store) -> Source:
    return await JobStore(store).update_source(source_id, changes)


async def remove_source(source_id: UUID, *, store: Store) -> None:
    """The source goes, and with it its postings and runs."""
    await JobStore(store).delete_source(source_id)


async def list_runs(source_id: UUID, cursor: str | None, limit: int, *, store: Store) -> PollRunPage:
    return await JobStore(store).list_source_runs(source_id, decode_cursor(RunsPosition, cursor), limit)


async def queue_poll(source_id: UUID, *, store: Store, queue: PollQueue, settings: Settings) -> PollQueued:
    """Put one source on the poll queue now, whatever its schedule."""
    jobs = JobStore(store)
    request = await jobs.request_poll(source_id, settings.poll_lease_seconds)
    if await queue.send([request]):
        await jobs.release_polls([request.run_id])
        raise QueueUnavailable("the poll queue did not take the request; try again")
    return PollQueued(source_id=source_id)
