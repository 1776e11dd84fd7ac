"""Detail pages in a poll: fetched only when they can have changed, never the reason to archive.

Production's poller (``poll_source``) against a fake Workday / SmartRecruiters on 127.0.0.1
that counts detail requests per posting, syncing into real Postgres.
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
from scout.store.postgres import PostgresStore
from tests.integration.jobs.serving import quick_policy
from tests.support.ats_payloads import smartrecruiters_posting, workday_posting
from tests.support.fake_ats import FakeAts, settings_for
from tests.support.http_server import Fault, LoopbackServer

WORKDAY_BOARD = "https://acme.wd5.myworkdayjobs.com/External"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def add_source(db: psycopg.AsyncConnection[dict[str, Any]], ats: str, board: str) -> UUID:
    row = await (
        await db.execute(
            "insert into sources (ats, board, company) values (%s, %s, 'Acme') returning id", (ats, board)
        )
    ).fetchone()
    assert row is not None
    return UUID(str(row["id"]))


async def poll_request(db: psycopg.AsyncConnection[dict[str, Any]], source_id: UUID) -> PollRequest:
    """The request a claim hands the poller (with the source's list digest)."""
    row = await (
        await db.execute(
            "select private.poll_request_json(s) as request from sources s where id = %s", (source_id,)
        )
    ).fetchone()
    assert row is not None
    return PollRequest.model_validate(row["request"])


async def stored(db: psycopg.AsyncConnection[dict[str, Any]], source_id: UUID) -> dict[str, dict[str, Any]]:
    rows = await (
        await db.execute(
            "select external_id, description_text, posted_at, detail_pending, archived_at, missed_runs"
            " from postings where source_id = %s",
            (source_id,),
        )
    ).fetchall()
    return {row["external_id"]: row for row in rows}


async def poll(
    db: psycopg.AsyncConnection[dict[str, Any]],
    store: PostgresStore,
    server: LoopbackServer,
    client: httpx.AsyncClient,
    source_id: UUID,
    **options: Any,
) -> Any:
    return await poll_source(
        await poll_request(db, source_id),
        store=store,
        settings=settings_for(server.url),
        client=client,
        policy=quick_policy(),
        **options,
    )


async def test_a_new_workday_posting_gets_its_description_and_start_date_from_its_detail(
    db: psycopg.AsyncConnection[dict[str, Any]], postgres_store: PostgresStore, client: httpx.AsyncClient
) -> None:
    # Given a Workday board of three postings, new to scout
    fake = FakeAts(workday={("acme", "External"): [workday_posting(n) for n in range(3)]})
    async with fake.server() as server:
        source_id = await add_source(db, "workday", WORKDAY_BOARD)

        # When it is polled
        run = await poll(db, postgres_store, server, client, source_id)

    # Then each posting's detail was fetched once and its description and start date stored
    assert (run.status, run.complete) == ("succeeded", True)
    assert sorted(fake.detail_requests.values()) == [1, 1, 1]
    rows = await stored(db, source_id)
    assert rows["JR100001"]["description_text"] == "Build pipelines for Data Engineer 1."
    assert rows["JR100001"]["posted_at"].isoformat() == "2024-04-29T00:00:00+00:00"
    assert not any(row["detail_pending"] for row in rows.values())


async def test_an_unchanged_re_poll_fetches_no_detail_and_keeps_the_descriptions(
    db: psycopg.AsyncConnection[dict[str, Any]], postgres_store: PostgresStore, client: httpx.AsyncClient
) -> None:
    # Given a SmartRecruiters board polled once, details and all
    fake = FakeAts(smartrecruiters={"Acme": [smartrecruiters_posting(n) for n in range(4)]})
    async with fake.server() as server:
        source_id = await add_source(db, "smartrecruiters", "Acme")
        await poll(db, postgres_store, server, client, source_id)
        fake.detail_requests.clear()
        rounds_before = postgres_store.round_trips

        # When it is polled again, unchanged
        run = await poll(db, postgres_store, server, client, source_id)

    # Then no detail was requested, the poll was one round trip, and the descriptions are kept
    assert (run.status, run.complete) == ("succeeded", True)
    assert sum(fake.detail_requests.values()) == 0
    assert postgres_store.round_trips - rounds_before == 1
    rows = await stored(db, source_id)
    assert all(
        row["description_text"] and "Job Description" in row["description_text"] for row in rows.values()
    )


async def test_only_a_posting_whose_list_entry_changed_has_its_detail_fetched_again(
    db: psycopg.AsyncConnection[dict[str, Any]], postgres_store: PostgresStore, client: httpx.AsyncClient
) -> None:
    # Given a Workday board polled once
    listings = [workday_posting(n) for n in range(3)]
    fake = FakeAts(workday={("acme", "External"): listings})
    async with fake.server() as server:
        source_id = await add_source(db, "workday", WORKDAY_BOARD)
        await poll(db, postgres_store, server, client, source_id)
        fake.detail_requests.clear()

        # When one listing is retitled and the board is polled again
        listings[1] = {**listings[1], "title": "Senior Data Engineer 1"}
        await poll(db, postgres_store, server, client, source_id)

    # Then only that posting's detail was requested
    assert dict(fake.detail_requests) == {listings[1]["externalPath"]: 1}


@pytest.mark.parametrize("failure", ["http_500", "timeout"])
async def test_a_failed_detail_keeps_the_posting_archives_nothing_and_is_retried(
    db: psycopg.AsyncConnection[dict[str, Any]],
    postgres_store: PostgresStore,
    client: httpx.AsyncClient,
    failure: str,
) -> None:
    # Given a SmartRecruiters board of three postings polled once, then one more posting listed
    postings = [smartrecruiters_posting(n) for n in range(3)]
    fake = FakeAts(smartrecruiters={"Acme": postings})
    async with fake.server() as server:
        source_id = await add_source(db, "smartrecruiters", "Acme")
        await poll(db, postgres_store, server, client, source_id)
        postings.append(smartrecruiters_posting(9))
        new_id = postings[-1]["id"]

        # When the new posting's detail answers 500 on every attempt, or hangs past the deadline
        options: dict[str, Any] = {}
        if failure == "http_500":
            fake.detail_failures[new_id] = 500
        else:
            server.inject(Fault(path=f"/postings/{new_id}$", kind="stall", seconds=5.0, times=10))
            options["deadline_seconds"] = 1.5
        run = await poll(db, postgres_store, server, client, source_id, **options)

        # Then the poll succeeded and complete, the new posting is stored from the list and marked for
        # a retry, and nothing was archived
        assert (run.status, run.complete, run.archived, run.guard) == ("succeeded", True, 0, None)
        rows = await stored(db, source_id)
        assert set(rows) == {posting["id"] for posting in postings}
        assert rows[new_id]["detail_pending"] is True
        assert rows[new_id]["description_text"] is None
        assert all(row["archived_at"] is None and row["missed_runs"] == 0 for row in rows.values())

        # And the next poll, with the detail answering again, fetches just that detail
        fake.detail_failures.clear()
        server.faults.clear()
        fake.detail_requests.clear()
        await poll(db, postgres_store, server, client, source_id)
    assert dict(fake.detail_requests) == {new_id: 1}
    rows = await stored(db, source_id)
    assert rows[new_id]["detail_pending"] is False
    assert rows[new_id]["description_text"] is not None
