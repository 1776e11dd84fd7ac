"""Polling many sources reuses connections and syncs each source in one database round trip.

The structure that bench/polling times, checked here without timing anything: a few sources
of every ATS kind (some boards gone), imported once and then re-polled at once by production's
poller on a client set up like the shared one, against six fake ATS hosts that count TCP
connections and a wire meter that counts Postgres round trips.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from bench.support.ats_farm import AtsFarm, FarmCounts
from bench.support.polling_variants import PollTally, SourceRef, poll_with_scout
from bench.support.polling_workload import Workload, build_workload
from scout.runtime import new_shared_http_client
from scout.settings import Settings
from scout.store.postgres import PostgresStore
from tests.support.loopback_names import WORKDAY_HOSTS, resolving_to_loopback

# Three boards of each kind, the first of each (but SmartRecruiters') gone: 18 sources, 5 gone.
MIX = {kind: 3 for kind in ("greenhouse", "lever", "ashby", "workday", "smartrecruiters", "jsonld")}


@dataclass
class Polled:
    workload: Workload
    tally: PollTally
    counts: FarmCounts
    store_round_trips: int
    import_tally: PollTally
    sources: list[SourceRef]


@pytest.fixture
def farm(clean_database: str) -> Iterator[AtsFarm]:
    # Each Workday tenant is its own host, as in production (bench.support.ats_farm).
    with AtsFarm(latency=0.0, database_dsn=clean_database) as farm, resolving_to_loopback(WORKDAY_HOSTS):
        yield farm


@pytest.fixture
async def polled(farm: AtsFarm, db: psycopg.AsyncConnection[dict[str, Any]]) -> AsyncIterator[Polled]:
    async with imported_then_polled(farm, db, MIX) as polled:
        yield polled


@asynccontextmanager
async def imported_then_polled(
    farm: AtsFarm, db: psycopg.AsyncConnection[dict[str, Any]], mix: dict[str, int]
) -> AsyncIterator[Polled]:
    workload = build_workload(farm.url("jsonld"), mix=mix)
    farm.serve(workload.fake)
    sources = []
    for source in workload.sources:
        row = await (
            await db.execute(
                "insert into sources (ats, board, company) values (%s, %s, %s) returning id::text",
                (source.ats, source.board, source.company),
            )
        ).fetchone()
        assert row is not None
        sources.append(SourceRef(row["id"], source.ats, source.board))
    settings = Settings(ALLOWED_HOSTS="localhost", **farm.environment())  # type: ignore[arg-type]
    store = PostgresStore(farm.metered_dsn)
    client = new_shared_http_client()
    try:
        async with new_shared_http_client() as import_client:
            imported = await poll_with_scout(
                sources, store=store, settings=settings, concurrency=len(sources), client=import_client
            )
        # A claim hands the poller each source's list digest; the re-poll gets them the same way.
        rows = await (await db.execute("select id::text as id, list_digest from sources")).fetchall()
        digests = {row["id"]: row["list_digest"] for row in rows}
        sources = [SourceRef(s.id, s.ats, s.board, digests[s.id]) for s in sources]
        farm.reset()
        store.round_trips = 0
        tally = await poll_with_scout(
            sources, store=store, settings=settings, concurrency=len(sources), client=client
        )
        yield Polled(workload, tally, farm.counts(), store.round_trips, imported, sources)
    finally:
        await client.aclose()
        await store.aclose()


async def test_polling_sources_at_once_opens_at_most_twenty_connections_and_keeps_them(
    polled: Polled,
) -> None:
    # Given 18 sources on eight hosts (each of the three Workday tenants its own, as in
    # production), polled all at once with the shared client's settings
    counts = polled.counts
    assert len(counts.requests_by_host) == 8
    assert sum(host.endswith(WORKDAY_HOSTS) for host in counts.requests_by_host) == 3

    # Then at most 20 connections were opened, and they carried more requests than that
    assert counts.requests > len(polled.workload.sources)
    assert counts.connections <= 20
    # And, with fewer hosts than connections, none was closed and replaced while polling: every
    # one opened was still open at the peak
    assert counts.connections == counts.most_connections_open


async def test_polling_more_hosts_than_connections_keeps_at_most_twenty_open(
    farm: AtsFarm, db: psycopg.AsyncConnection[dict[str, Any]]
) -> None:
    # Given 25 Workday tenants among the sources: 30 hosts, more than the 20 connections a poll
    # may hold, so some connection must move from one host to another
    mix = {**MIX, "workday": 25}

    # When the sources are imported and then re-polled all at once
    async with imported_then_polled(farm, db, mix) as polled:
        counts = polled.counts

    # Then every host was asked, each needing a connection of its own
    assert len(counts.requests_by_host) == 30
    assert counts.connections >= 30
    # And a host's idle connection was closed before another host's was opened: never more
    # than 20 open at once
    assert counts.most_connections_open <= 20
    # And every live board still synced
    gone = sum(source.gone for source in polled.workload.sources)
    assert (polled.tally.succeeded, polled.tally.failed) == (len(polled.workload.sources) - gone, gone)


async def test_each_polled_source_is_synced_in_exactly_one_database_round_trip(polled: Polled) -> None:
    # Given 18 sources polled, 5 of whose boards are gone
    gone = sum(source.gone for source in polled.workload.sources)
    sources = len(polled.workload.sources)

    # Then every live board synced successfully and every gone board recorded a failure
    assert (polled.tally.succeeded, polled.tally.failed) == (sources - gone, gone)
    # And each source made one round trip, as the store, the poller and the wire all count
    assert polled.tally.round_trips_per_source(succeeded=True) == {"1": sources - gone}
    assert polled.tally.round_trips_per_source(succeeded=False) == {"1": gone}
    assert polled.store_round_trips == polled.counts.db_round_trips == sources


async def test_importing_a_source_with_detail_pages_asks_for_its_fingerprints_once(polled: Polled) -> None:
    # Given the first poll of the same sources, when every posting was new
    trips = polled.import_tally.round_trips_by_source

    # Then each live Workday and SmartRecruiters source also asked for its fingerprints (two
    # round trips), and every other source, gone ones included, made one
    for ref, source in zip(polled.sources, polled.workload.sources, strict=True):
        with_details = source.ats in ("workday", "smartrecruiters") and not source.gone
        assert trips[ref.id] == (2 if with_details else 1), (source.ats, source.board)
