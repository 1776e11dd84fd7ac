"""Fetching one job board: the entry point the CLI and the poller call.

``fetch_board`` takes the ATS kind and board id of a source, fetches every page through
the kind's adapter and returns a :class:`~scout.jobs.results.FetchResult`, or raises an
:class:`~scout.errors.AtsError` (``ats_not_found``, ``ats_unavailable``, ``ats_bad_response``,
``ats_timeout``, ``ats_rate_limited``). It is safe to run many at once on one loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import MappingProxyType

import httpx

from scout.errors import AtsTimeout, UnsupportedAts
from scout.jobs import clients
from scout.jobs.ats import ashby, greenhouse, jsonld, lever, smartrecruiters, workday
from scout.jobs.ats.adapter import AtsAdapter
from scout.jobs.details import KnownPosting, KnownPostings, add_details, all_unchanged, list_digest
from scout.jobs.fetching import DEFAULT_POLICY, AtsSession, FetchPolicy
from scout.jobs.posting import ATS_KINDS
from scout.jobs.results import FetchResult
from scout.settings import Settings

ADAPTERS: Mapping[str, AtsAdapter] = MappingProxyType(
    {
        adapter.kind: adapter
        for adapter in (
            greenhouse.ADAPTER,
            lever.ADAPTER,
            ashby.ADAPTER,
            workday.ADAPTER,
            smartrecruiters.ADAPTER,
            jsonld.ADAPTER,
        )
    }
)
assert tuple(ADAPTERS) == ATS_KINDS


def adapter_for(kind: str) -> AtsAdapter:
    adapter = ADAPTERS.get(kind.strip().lower() if isinstance(kind, str) else kind)
    if adapter is None:
        raise UnsupportedAts(f"{kind!r} is not an ATS kind scout knows ({', '.join(ATS_KINDS)})")
    return adapter


def canonical_board(kind: str, board: str) -> str:
    """The board id as scout stores it; raises ``InvalidBoard`` / ``UnsupportedAts``."""
    return adapter_for(kind).canonical_board(board)


async def fetch_board(
    kind: str,
    board: str,
    *,
    client: httpx.AsyncClient | None = None,
    settings: Settings,
    policy: FetchPolicy | None = None,
    known: KnownPostings | None = None,
    known_digest: str | None = None,
    deadline_seconds: float | None = None,
) -> FetchResult:
    """Every open posting on one board, normalised, and whether that list is complete.

    ``client`` defaults to the pooled production client for the kind (the egress-guarded one
    for careers pages); tests pass their own. ``policy`` sets retries, timeouts and caps.
    Kinds with detail pages also fetch the details of the postings ``known`` (what the store
    remembers, asked once the list is in) says are new or changed; without ``known``, every
    detail. A ``known_digest`` (the stored list's, from the poll request) equal to the fetched
    list's means nothing changed: no detail is due and ``known`` is not asked.
    ``deadline_seconds`` bounds the whole fetch: a list not in by then raises ``AtsTimeout``;
    details still missing then are left for the next poll.
    """
    adapter = adapter_for(kind)
    board_id = adapter.canonical_board(board)
    if client is None:
        client = (
            clients.careers_page_client(settings) if adapter.kind == "jsonld" else clients.ats_api_client()
        )
    session = AtsSession(client, adapter.kind, policy or DEFAULT_POLICY)
    loop = asyncio.get_running_loop()
    deadline_at = None if deadline_seconds is None else loop.time() + deadline_seconds
    try:
        async with asyncio.timeout_at(deadline_at):
            result = await adapter.fetch(board_id, session, settings)
    except TimeoutError:
        raise AtsTimeout(f"the board did not finish answering within {deadline_seconds:g} s") from None
    if adapter.fetch_detail is None or not result.detail_keys:
        return result
    stored: Mapping[str, KnownPosting] | None
    if known_digest is not None and known_digest == list_digest(result):
        stored = all_unchanged(result)
    else:
        stored = await known() if known is not None else None
    seconds_left = None if deadline_at is None else deadline_at - loop.time()
    return await add_details(result, adapter, session, settings, known=stored, seconds_left=seconds_left)
