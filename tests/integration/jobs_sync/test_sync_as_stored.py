"""sync_source_postings takes fingerprints for the postings a poller knows are stored, and checks them.

Each test runs once per store adapter (postgres, supabase/PostgREST) against real Postgres.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from scout.errors import BadRequest
from scout.jobs.sync_payload import entry_fingerprint
from scout.store import Store
from tests.integration.jobs_sync.test_sync_source_postings import TEN, add_source, ok, posting, sync
from tests.integration.jobs_sync.test_sync_writes import row_versions


def fingerprinted(*entries: dict[str, Any], complete: bool = True) -> dict[str, Any]:
    """A successful fetch of ``entries``, each with its fingerprint, as the poller sends it."""
    postings = [entry | {"fingerprint": entry_fingerprint(entry)} for entry in entries]
    return {"status": "succeeded", "complete": complete, "postings": postings}


def as_stored(*entries: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"external_id": entry["external_id"], "fingerprint": entry_fingerprint(entry), "as_stored": True}
        for entry in entries
    ]


BOARD = [posting(external_id) for external_id in TEN]


async def poll_runs(db: psycopg.AsyncConnection[dict[str, Any]], source_id: str) -> int:
    row = await (
        await db.execute("select count(*) as runs from poll_runs where source_id = %s", (source_id,))
    ).fetchone()
    assert row is not None
    return int(row["runs"])


async def stored(db: psycopg.AsyncConnection[dict[str, Any]], source_id: str) -> dict[str, dict[str, Any]]:
    rows = await (
        await db.execute(
            "select external_id, title, missed_runs, archived_at, in_latest_sync from postings"
            " where source_id = %s",
            (source_id,),
        )
    ).fetchall()
    return {row["external_id"]: row for row in rows}


async def test_a_board_sent_as_stored_is_seen_and_writes_no_posting_row(store: Store, db: Any) -> None:
    # Given a board synced with fingerprints
    source = await add_source(db)
    await sync(store, source, fingerprinted(*BOARD))
    before = await row_versions(db, source)
    # When every posting is sent as stored
    run = await sync(store, source, {"status": "succeeded", "complete": True, "postings": as_stored(*BOARD)})
    # Then all ten were fetched, none upserted, and no posting row was written
    assert (run["status"], run["fetched"], run["upserted"], run["archived"]) == ("succeeded", 10, 0, 0)
    assert await row_versions(db, source) == before


async def test_a_stale_fingerprint_makes_the_sync_a_no_op_that_names_the_posting(
    store: Store, db: Any
) -> None:
    # Given a board synced with fingerprints, then posting 3 retitled by another writer
    source = await add_source(db)
    await sync(store, source, fingerprinted(*BOARD))
    await sync(store, source, fingerprinted(*BOARD[:3], posting("3", title="Staff Engineer 3"), *BOARD[4:]))
    before, runs_before = await row_versions(db, source), await poll_runs(db, source)
    # When a poller that remembers the first sync sends posting 3 as stored, and 9 is gone
    result = {"status": "succeeded", "complete": True, "postings": as_stored(*BOARD[:9])}
    answer = await sync(store, source, result)
    # Then the answer asks for posting 3 in full, and nothing was written or recorded
    assert answer == {"resend": ["3"]}
    assert await row_versions(db, source) == before
    assert await poll_runs(db, source) == runs_before
    assert (await stored(db, source))["9"]["missed_runs"] == 0


async def test_a_posting_sent_as_stored_that_the_store_lacks_is_asked_for(store: Store, db: Any) -> None:
    # Given a board of nine synced
    source = await add_source(db)
    await sync(store, source, fingerprinted(*BOARD[:9]))
    # When posting 9, never stored, is sent as stored
    answer = await sync(
        store, source, {"status": "succeeded", "complete": True, "postings": as_stored(*BOARD)}
    )
    # Then the sync asks for it in full
    assert answer == {"resend": ["9"]}


async def test_changed_postings_in_full_beside_the_rest_as_stored_update_and_mark_the_missing(
    store: Store, db: Any
) -> None:
    # Given a board synced with fingerprints
    source = await add_source(db)
    await sync(store, source, fingerprinted(*BOARD))
    before = await row_versions(db, source)
    # When posting 0 is retitled (sent in full), 1-8 are sent as stored and 9 is gone
    retitled = posting("0", title="Staff Engineer 0")
    result = fingerprinted(retitled)
    result["postings"] += as_stored(*BOARD[1:9])
    run = await sync(store, source, result)
    # Then posting 0 is updated, 9 counted missed, and 1-8 left alone
    assert (run["fetched"], run["upserted"], run["archived"]) == (9, 1, 0)
    rows = await stored(db, source)
    assert rows["0"]["title"] == "Staff Engineer 0"
    assert (rows["9"]["missed_runs"], rows["9"]["archived_at"]) == (1, None)
    after = await row_versions(db, source)
    assert {key for key in before if before[key] != after[key]} == {"0", "9"}
    # And the next poll may send posting 0 as stored with its new fingerprint
    again = await sync(
        store,
        source,
        {"status": "succeeded", "complete": True, "postings": as_stored(retitled, *BOARD[1:9])},
    )
    assert (again["status"], again["upserted"]) == ("succeeded", 0)


async def test_postings_sent_as_stored_count_as_listed_for_the_archive_guards(store: Store, db: Any) -> None:
    # Given a board synced with fingerprints
    source = await add_source(db)
    await sync(store, source, fingerprinted(*BOARD))
    # When it is polled five times with every posting sent as stored
    for _ in range(5):
        run = await sync(
            store, source, {"status": "succeeded", "complete": True, "postings": as_stored(*BOARD)}
        )
        assert (run["guard"], run["archived"]) == (None, 0)
    # Then every posting is still live, never missed
    rows = await stored(db, source)
    assert {(row["missed_runs"], row["archived_at"], row["in_latest_sync"]) for row in rows.values()} == {
        (0, None, True)
    }


async def test_an_archived_posting_sent_as_stored_is_listed_again(store: Store, db: Any) -> None:
    # Given a posting archived after the board stopped listing it
    source = await add_source(db)
    await sync(store, source, fingerprinted(*BOARD))
    await db.execute(
        "update postings set archived_at = now(), in_latest_sync = false"
        " where source_id = %s and external_id = '9'",
        (source,),
    )
    # When it is sent as stored with the others
    run = await sync(store, source, {"status": "succeeded", "complete": True, "postings": as_stored(*BOARD)})
    # Then it is live again, counted as relisted
    assert run["relisted"] == 1
    assert (await stored(db, source))["9"]["archived_at"] is None


async def test_entries_without_fingerprints_record_none_where_the_content_changed(
    store: Store, db: Any
) -> None:
    # Given a board synced with fingerprints, then posting 0 retitled by a caller sending none
    source = await add_source(db)
    await sync(store, source, fingerprinted(*BOARD))
    result = ok(*TEN)
    result["postings"][0] = posting("0", title="Staff Engineer 0")
    await sync(store, source, result)
    # When a poller sends posting 0 as stored, as it synced it before
    answer = await sync(
        store, source, {"status": "succeeded", "complete": True, "postings": as_stored(*BOARD)}
    )
    # Then only posting 0 is asked for: the others' stored content is still what they claim
    assert answer == {"resend": ["0"]}


async def test_a_posting_sent_as_stored_needs_its_fingerprint(store: Store, db: Any) -> None:
    # Given a synced board
    source = await add_source(db)
    await sync(store, source, fingerprinted(*BOARD))
    # When a posting is sent as stored without a fingerprint
    result = {"status": "succeeded", "complete": True, "postings": [{"external_id": "0", "as_stored": True}]}
    # Then the sync is refused as bad input
    with pytest.raises(BadRequest):
        await sync(store, source, result)


async def test_a_claimed_poll_answered_with_resend_keeps_its_run_running(store: Store, db: Any) -> None:
    # Given a board synced with fingerprints and a poll claimed for it
    source = await add_source(db)
    await sync(store, source, fingerprinted(*BOARD))
    claimed = await store.call("request_poll", p_source_id=source, p_lease_seconds=600)
    # When the claimed poll sends a posting as stored that the store lacks
    result = {"status": "succeeded", "complete": True, "postings": as_stored(*BOARD, posting("10"))}
    answer = await store.call(
        "finish_source_poll", p_source_id=source, p_run_id=claimed["run_id"], p_result=result, p_retry=False
    )
    # Then it is asked for, and the claimed run is still running, to be settled by the resend
    assert answer == {"resend": ["10"]}
    row = await (
        await db.execute("select status from poll_runs where id = %s", (claimed["run_id"],))
    ).fetchone()
    assert row is not None
    assert row["status"] == "running"
