"""sync_source_postings writes only what changed, and a job still says when it was last seen.

Each test runs once per store adapter (postgres, supabase/PostgREST) against real Postgres.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from scout.store import Store
from tests.integration.jobs_sync.test_sync_source_postings import TEN, add_source, ok, posting, sync


async def row_versions(db: psycopg.AsyncConnection[dict[str, Any]], source_id: str) -> dict[str, str]:
    """Each posting's xmin: the transaction that last wrote its row."""
    rows = await (
        await db.execute(
            "select external_id, xmin::text as xmin from postings where source_id = %s", (source_id,)
        )
    ).fetchall()
    return {row["external_id"]: row["xmin"] for row in rows}


async def job_last_seen(
    store: Store, db: psycopg.AsyncConnection[dict[str, Any]], source_id: str
) -> dict[str, str]:
    rows = await (
        await db.execute("select id, external_id from postings where source_id = %s", (source_id,))
    ).fetchall()
    seen = {}
    for row in rows:
        job = await store.call("get_job", p_job_id=str(row["id"]))
        seen[row["external_id"]] = job["last_seen_at"]
    return seen


def instant(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value.replace("Z", "+00:00"))


async def last_success(db: psycopg.AsyncConnection[dict[str, Any]], source_id: str) -> datetime:
    row = await (
        await db.execute("select last_success_at from sources where id = %s", (source_id,))
    ).fetchone()
    assert row is not None
    return instant(row["last_success_at"])


async def test_unchanged_repoll_writes_no_posting_row(store: Store, db: Any) -> None:
    # Given a synced board
    source = await add_source(db)
    await sync(store, source, ok(*TEN))
    before = await row_versions(db, source)
    # When the same board is synced again
    run = await sync(store, source, ok(*TEN))
    # Then no posting row was rewritten
    assert run["upserted"] == 0
    assert await row_versions(db, source) == before


async def test_only_changed_and_removed_postings_are_written(store: Store, db: Any) -> None:
    # Given a synced board
    source = await add_source(db)
    await sync(store, source, ok(*TEN))
    before = await row_versions(db, source)
    # When posting 0 changes its title and posting 9 is gone
    result = ok(*TEN[1:9])
    result["postings"].append(posting("0", title="Staff Engineer 0"))
    run = await sync(store, source, result)
    # Then the changed posting is updated, the missing one marked, and the rest left alone
    assert run["upserted"] == 1
    after = await row_versions(db, source)
    assert {key for key in before if before[key] != after[key]} == {"0", "9"}
    title = await (
        await db.execute("select title from postings where source_id = %s and external_id = '0'", (source,))
    ).fetchone()
    assert title is not None
    assert title["title"] == "Staff Engineer 0"


async def test_a_job_was_last_seen_by_the_latest_sync_that_listed_it(store: Store, db: Any) -> None:
    # Given a board synced twice, the second time without posting 9
    source = await add_source(db)
    await sync(store, source, ok(*TEN))
    listed_nine = await last_success(db, source)
    await sync(store, source, ok(*TEN[:9]))
    second = await last_success(db, source)
    # When it is synced again, unchanged, without posting 9
    await sync(store, source, ok(*TEN[:9]))
    third = await last_success(db, source)
    assert listed_nine < second < third
    seen = {key: instant(value) for key, value in (await job_last_seen(store, db, source)).items()}
    # Then every listed job was last seen by the latest sync, and posting 9 by the first one
    assert {seen[key] for key in TEN[:9]} == {third}
    assert seen["9"] == listed_nine


async def test_a_job_listed_again_is_seen_again(store: Store, db: Any) -> None:
    # Given posting 9 missing from one sync
    source = await add_source(db)
    await sync(store, source, ok(*TEN))
    await sync(store, source, ok(*TEN[:9]))
    # When it is listed again
    await sync(store, source, ok(*TEN))
    latest = await last_success(db, source)
    # Then it was last seen by that sync, like the others
    seen = {key: instant(value) for key, value in (await job_last_seen(store, db, source)).items()}
    assert set(seen.values()) == {latest}


async def test_an_incomplete_fetch_does_not_count_as_seeing_what_it_missed(store: Store, db: Any) -> None:
    # Given a synced board
    source = await add_source(db)
    await sync(store, source, ok(*TEN))
    listed_all = await last_success(db, source)
    # When an incomplete fetch lists only the first five
    await sync(store, source, ok(*TEN[:5], complete=False))
    # Then the other five were last seen by the first sync, and nothing was archived
    seen = {key: instant(value) for key, value in (await job_last_seen(store, db, source)).items()}
    assert {seen[key] for key in TEN[5:]} == {listed_all}
    assert {seen[key] for key in TEN[:5]} == {await last_success(db, source)}
