"""A warm poller sends a re-poll's unchanged postings as fingerprints, and recovers from a stale memory.

Production's poller (``poll_source``) against a fake Greenhouse on 127.0.0.1, syncing into real
Postgres through a store that records what each sync call carried.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest

from scout.jobs.poll_queue import PollRequest
from scout.jobs.polling import poll_source
from scout.jobs.sync_payload import LAST_SYNCED, content_entries, with_fingerprints
from scout.store.postgres import PostgresStore
from tests.integration.jobs.serving import quick_policy
from tests.integration.jobs_sync.test_sync_writes import row_versions
from tests.support.ats_payloads import greenhouse_job
from tests.support.fake_ats import FakeAts, settings_for
from tests.support.http_server import LoopbackServer


class RecordingStore:
    """The real store, remembering the payload of every sync call it passed on."""

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        self.payloads: list[dict[str, Any]] = []

    @property
    def round_trips(self) -> int:
        return self._store.round_trips

    async def call(self, function: str, /, **args: Any) -> Any:
        if function == "sync_source_postings":
            self.payloads.append(args["p_result"])
        return await self._store.call(function, **args)

    async def aclose(self) -> None:
        await self._store.aclose()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def add_source(db: psycopg.AsyncConnection[dict[str, Any]]) -> UUID:
    row = await (
        await db.execute(
            "insert into sources (ats, board, company) values ('greenhouse', 'acme', 'Acme') returning id"
        )
    ).fetchone()
    assert row is not None
    return UUID(str(row["id"]))


async def poll(
    store: RecordingStore, server: LoopbackServer, client: httpx.AsyncClient, source_id: UUID
) -> Any:
    request = PollRequest(source_id=source_id, ats="greenhouse", board="acme")
    return await poll_source(
        request, store=store, settings=settings_for(server.url), client=client, policy=quick_policy()
    )


async def titles(db: psycopg.AsyncConnection[dict[str, Any]], source_id: UUID) -> dict[str, str]:
    rows = await (
        await db.execute("select external_id, title from postings where source_id = %s", (source_id,))
    ).fetchall()
    return {row["external_id"]: row["title"] for row in rows}


async def another_process_syncs_a_retitled_posting(
    store: PostgresStore, source_id: UUID, payload: dict[str, Any], external_id: str
) -> None:
    """What a poller in another environment does when it saw the board a moment before."""
    postings = []
    for entry in payload["postings"]:
        entry = {key: value for key, value in entry.items() if key != "fingerprint"}
        if entry["external_id"] == external_id:
            entry = entry | {"title": "Written elsewhere"}
        postings.append(entry)
    retitled = with_fingerprints(payload | {"postings": postings})
    await store.call("sync_source_postings", p_source_id=source_id, p_result=retitled)


async def test_a_warm_re_poll_of_an_unchanged_board_sends_no_content_and_writes_no_row(
    db: psycopg.AsyncConnection[dict[str, Any]], postgres_store: PostgresStore, client: httpx.AsyncClient
) -> None:
    # Given a board of five polled once by this process
    store = RecordingStore(postgres_store)
    fake = FakeAts(greenhouse={"acme": [greenhouse_job(n) for n in range(5)]})
    async with fake.server() as server:
        source_id = await add_source(db)
        await poll(store, server, client, source_id)
        before, rounds_before = await row_versions(db, str(source_id)), store.round_trips

        # When it is polled again, unchanged
        run = await poll(store, server, client, source_id)

    # Then the first sync sent every posting in full, the second none, in one round trip,
    # and no posting row was written
    assert [content_entries(payload) for payload in store.payloads] == [5, 0]
    assert len(store.payloads[1]["postings"]) == 5
    assert (run.status, run.fetched, run.upserted) == ("succeeded", 5, 0)
    assert store.round_trips - rounds_before == 1
    assert await row_versions(db, str(source_id)) == before


async def test_a_changed_posting_goes_in_full_and_a_removed_one_is_marked_missed(
    db: psycopg.AsyncConnection[dict[str, Any]], postgres_store: PostgresStore, client: httpx.AsyncClient
) -> None:
    # Given a board of five polled once by this process
    store = RecordingStore(postgres_store)
    jobs = [greenhouse_job(n) for n in range(5)]
    fake = FakeAts(greenhouse={"acme": jobs})
    async with fake.server() as server:
        source_id = await add_source(db)
        await poll(store, server, client, source_id)

        # When posting 0 is retitled and posting 4 leaves the board
        jobs[0] = {**jobs[0], "title": "Staff Software Engineer 0"}
        del jobs[4]
        run = await poll(store, server, client, source_id)

    # Then only the retitled posting carried content, and it is stored; the removed one is missed
    assert content_entries(store.payloads[-1]) == 1
    assert (run.fetched, run.upserted) == (4, 1)
    assert (await titles(db, source_id))[str(jobs[0]["id"])] == "Staff Software Engineer 0"
    row = await (
        await db.execute(
            "select missed_runs from postings where source_id = %s and external_id = %s",
            (source_id, str(4000004)),
        )
    ).fetchone()
    assert row is not None
    assert row["missed_runs"] == 1


async def test_a_posting_another_writer_changed_is_re_sent_in_full_and_updated(
    db: psycopg.AsyncConnection[dict[str, Any]], postgres_store: PostgresStore, client: httpx.AsyncClient
) -> None:
    # Given a board polled by this process, then posting 2 synced retitled by another process
    store = RecordingStore(postgres_store)
    fake = FakeAts(greenhouse={"acme": [greenhouse_job(n) for n in range(5)]})
    async with fake.server() as server:
        source_id = await add_source(db)
        await poll(store, server, client, source_id)
        await another_process_syncs_a_retitled_posting(
            postgres_store, source_id, store.payloads[0], "4000002"
        )

        # When this process polls the unchanged board again
        run = await poll(store, server, client, source_id)

    # Then the fingerprints-only sync was refused and the whole fetch sent again in full,
    # which restored the board's title
    assert [content_entries(payload) for payload in store.payloads] == [5, 0, 5]
    assert (run.status, run.fetched, run.upserted) == ("succeeded", 5, 1)
    assert (await titles(db, source_id))[str(4000002)] == "Software Engineer 2"


async def test_a_cold_process_sends_the_board_in_full_and_rewrites_nothing(
    db: psycopg.AsyncConnection[dict[str, Any]], postgres_store: PostgresStore, client: httpx.AsyncClient
) -> None:
    # Given a board polled once, then the process's memory of it lost (a new environment)
    store = RecordingStore(postgres_store)
    fake = FakeAts(greenhouse={"acme": [greenhouse_job(n) for n in range(5)]})
    async with fake.server() as server:
        source_id = await add_source(db)
        await poll(store, server, client, source_id)
        LAST_SYNCED.forget(source_id)
        before = await row_versions(db, str(source_id))

        # When it is polled again, unchanged
        run = await poll(store, server, client, source_id)

    # Then every posting went in full, and no posting row was written (same fingerprints)
    assert [content_entries(payload) for payload in store.payloads] == [5, 5]
    assert (run.status, run.upserted) == ("succeeded", 0)
    assert await row_versions(db, str(source_id)) == before
