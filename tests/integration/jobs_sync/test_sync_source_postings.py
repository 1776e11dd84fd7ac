"""sync_source_postings: one round trip that never marks a live role gone.

Each test runs once per store adapter (postgres, supabase/PostgREST) against real Postgres.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from scout.errors import BadRequest, NotFound
from scout.store import Store


async def add_source(db: psycopg.AsyncConnection[dict[str, Any]], ats: str = "greenhouse") -> str:
    row = await (
        await db.execute(
            "insert into sources (ats, board, company) values (%s, %s, 'Acme') returning id::text",
            (ats, f"board-{uuid.uuid4().hex[:8]}"),
        )
    ).fetchone()
    assert row is not None
    return str(row["id"])


def posting(external_id: str, title: str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "ats": "greenhouse",
        "board": "acme",
        "external_id": external_id,
        "title": title or f"Engineer {external_id}",
        "url": f"https://boards.example/jobs/{external_id}",
        "location": "Berlin, Germany",
        "locations": ["Berlin, Germany"],
        "posted_at": "2026-11-01T09:00:00Z",
        **fields,
    }


def ok(*ids: str, complete: bool = True) -> dict[str, Any]:
    return {"status": "succeeded", "complete": complete, "postings": [posting(i) for i in ids]}


async def sync(store: Store, source_id: str, result: dict[str, Any]) -> dict[str, Any]:
    run: dict[str, Any] = await store.call("sync_source_postings", p_source_id=source_id, p_result=result)
    return run


async def archived_ids(db: psycopg.AsyncConnection[dict[str, Any]], source_id: str) -> set[str]:
    rows = await (
        await db.execute(
            "select external_id from postings where source_id = %s and archived_at is not null", (source_id,)
        )
    ).fetchall()
    return {row["external_id"] for row in rows}


async def source_row(db: psycopg.AsyncConnection[dict[str, Any]], source_id: str) -> dict[str, Any]:
    row = await (await db.execute("select * from sources where id = %s", (source_id,))).fetchone()
    assert row is not None
    return row


TEN = [str(n) for n in range(10)]


async def test_first_complete_run_inserts_every_posting_and_records_the_run(store: Store, db: Any) -> None:
    source = await add_source(db)
    run = await sync(store, source, ok(*TEN))
    assert run["status"] == "succeeded"
    assert (run["fetched"], run["upserted"], run["archived"], run["relisted"], run["guard"]) == (
        10,
        10,
        0,
        0,
        None,
    )
    assert (await source_row(db, source))["active_postings"] == 10


async def test_unchanged_postings_are_not_counted_as_upserted(store: Store, db: Any) -> None:
    source = await add_source(db)
    await sync(store, source, ok(*TEN))
    run = await sync(store, source, ok(*TEN))
    assert run["upserted"] == 0


async def test_sync_is_one_round_trip(store: Store, db: Any) -> None:
    source = await add_source(db)
    before = store.round_trips
    await sync(store, source, ok(*TEN))
    assert store.round_trips - before == 1


async def test_api_kind_posting_missed_once_stays_active(store: Store, db: Any) -> None:
    # Given ten postings, then one complete run without posting 9
    source = await add_source(db, "greenhouse")
    await sync(store, source, ok(*TEN))
    run = await sync(store, source, ok(*TEN[:9]))
    # Then it is not archived yet
    assert run["archived"] == 0
    assert await archived_ids(db, source) == set()


async def test_api_kind_posting_missed_on_two_complete_runs_is_archived(store: Store, db: Any) -> None:
    source = await add_source(db, "lever")
    await sync(store, source, ok(*TEN))
    await sync(store, source, ok(*TEN[:9]))
    run = await sync(store, source, ok(*TEN[:9]))
    assert run["archived"] == 1
    assert await archived_ids(db, source) == {"9"}
    assert (await source_row(db, source))["active_postings"] == 9


@pytest.mark.parametrize("ats", ["workday", "jsonld"])
async def test_scraped_kinds_need_three_misses(store: Store, db: Any, ats: str) -> None:
    source = await add_source(db, ats)
    await sync(store, source, ok(*TEN))
    await sync(store, source, ok(*TEN[:9]))
    second_miss = await sync(store, source, ok(*TEN[:9]))
    third_miss = await sync(store, source, ok(*TEN[:9]))
    assert second_miss["archived"] == 0
    assert third_miss["archived"] == 1


async def test_misses_must_be_consecutive(store: Store, db: Any) -> None:
    # Given a posting missed once, seen again, then missed once more
    source = await add_source(db)
    await sync(store, source, ok(*TEN))
    await sync(store, source, ok(*TEN[:9]))
    await sync(store, source, ok(*TEN))
    run = await sync(store, source, ok(*TEN[:9]))
    # Then the count restarted and nothing is archived
    assert run["archived"] == 0


async def test_archived_posting_that_reappears_is_relisted(store: Store, db: Any) -> None:
    source = await add_source(db)
    await sync(store, source, ok(*TEN))
    await sync(store, source, ok(*TEN[:9]))
    await sync(store, source, ok(*TEN[:9]))
    assert await archived_ids(db, source) == {"9"}
    # When it comes back
    run = await sync(store, source, ok(*TEN))
    # Then it is active again, counted as relisted, and keeps its identity
    assert run["relisted"] == 1
    assert await archived_ids(db, source) == set()
    assert (await source_row(db, source))["active_postings"] == 10


async def test_incomplete_fetch_upserts_but_never_counts_misses(store: Store, db: Any) -> None:
    source = await add_source(db)
    await sync(store, source, ok(*TEN))
    for _ in range(4):
        run = await sync(store, source, ok(*TEN[:8], "new", complete=False))
        assert run["guard"] == "incomplete_fetch"
        assert run["archived"] == 0
    assert await archived_ids(db, source) == set()
    missed = await (await db.execute("select max(missed_runs) as m from postings")).fetchone()
    assert missed["m"] == 0
    assert (await source_row(db, source))["active_postings"] == 11


async def test_empty_result_from_active_source_archives_nothing(store: Store, db: Any) -> None:
    source = await add_source(db)
    await sync(store, source, ok(*TEN))
    for _ in range(3):
        run = await sync(store, source, ok())
        assert run["guard"] == "empty_result"
    assert await archived_ids(db, source) == set()


async def test_empty_result_from_a_new_source_is_fine(store: Store, db: Any) -> None:
    source = await add_source(db)
    run = await sync(store, source, ok())
    assert run["guard"] is None
    assert run["status"] == "succeeded"


async def test_result_under_70_percent_of_active_archives_nothing(store: Store, db: Any) -> None:
    source = await add_source(db)
    await sync(store, source, ok(*TEN))
    for _ in range(3):
        run = await sync(store, source, ok(*TEN[:6]))
        assert run["guard"] == "shrunk_result"
    assert await archived_ids(db, source) == set()


async def test_result_at_70_percent_is_trusted(store: Store, db: Any) -> None:
    source = await add_source(db)
    await sync(store, source, ok(*TEN))
    run = await sync(store, source, ok(*TEN[:7]))
    assert run["guard"] is None


async def test_run_that_would_archive_more_than_half_archives_nothing(store: Store, db: Any) -> None:
    # Given ten postings, then eight of them vanish over two complete runs while new ones keep
    # the fetch size healthy (so neither size guard trips)
    source = await add_source(db)
    await sync(store, source, ok(*TEN))
    first = await sync(store, source, ok("0", "1", *"abcde"))
    # When the eight are missed for the second time: 8 of the 15 active postings
    second = await sync(store, source, ok("0", "1", *"abcdefghi"))
    # Then the mass-archive guard holds every one of them back
    assert first["guard"] is None
    assert second["guard"] == "mass_archive"
    assert second["archived"] == 0
    assert await archived_ids(db, source) == set()


async def test_changed_id_scheme_archives_nothing(store: Store, db: Any) -> None:
    # Given a board whose ids all change format at once (same ten roles, new ids)
    source = await add_source(db)
    await sync(store, source, ok(*TEN))
    renamed = ok(*[f"JR-{n}" for n in TEN])
    # When it is polled repeatedly
    runs = [await sync(store, source, renamed) for _ in range(3)]
    # Then the old postings are never archived on the strength of it
    assert runs[-1]["guard"] is not None
    assert await archived_ids(db, source) == set()


async def test_failed_fetch_changes_no_posting_and_backs_off(store: Store, db: Any) -> None:
    source = await add_source(db)
    await sync(store, source, ok(*TEN))
    before = await source_row(db, source)
    failure = {
        "status": "failed",
        "error": {"code": "ats_unavailable", "message": "The job board answered 503."},
    }
    run = await sync(store, source, failure)
    after_one = await source_row(db, source)
    await sync(store, source, failure)
    after_two = await source_row(db, source)
    assert run["status"] == "failed"
    assert run["error"] == failure["error"]
    assert (run["fetched"], run["upserted"], run["archived"]) == (0, 0, 0)
    assert after_one["last_error"] == failure["error"]
    assert after_one["active_postings"] == before["active_postings"] == 10
    assert after_two["consecutive_failures"] == 2
    assert after_two["next_poll_at"] > after_one["next_poll_at"] > before["next_poll_at"]
    assert await archived_ids(db, source) == set()


async def test_repeated_404s_never_disable_a_source(store: Store, db: Any) -> None:
    source = await add_source(db)
    not_found = {
        "status": "failed",
        "error": {"code": "ats_not_found", "message": "The board was not found."},
    }
    for _ in range(12):
        await sync(store, source, not_found)
    row = await source_row(db, source)
    assert row["enabled"] is True
    assert row["consecutive_failures"] == 12
    # and the backoff is capped at a day
    gap = await (
        await db.execute("select next_poll_at - now() as gap from sources where id = %s", (source,))
    ).fetchone()
    assert gap["gap"].total_seconds() <= 24 * 3600


async def test_success_after_failures_clears_the_error(store: Store, db: Any) -> None:
    source = await add_source(db)
    await sync(store, source, {"status": "failed", "error": {"code": "ats_timeout", "message": "Timed out."}})
    await sync(store, source, ok(*TEN))
    row = await source_row(db, source)
    assert row["last_error"] is None
    assert row["consecutive_failures"] == 0


async def test_duplicate_ids_in_one_result_keep_the_last_copy(store: Store, db: Any) -> None:
    source = await add_source(db)
    result = {
        "status": "succeeded",
        "complete": True,
        "postings": [posting("1", "First"), posting("1", "Second")],
    }
    run = await sync(store, source, result)
    title = await (await db.execute("select title from postings where source_id = %s", (source,))).fetchone()
    assert run["fetched"] == 1
    assert title["title"] == "Second"


async def test_posting_without_a_title_refuses_the_whole_sync(store: Store, db: Any) -> None:
    source = await add_source(db)
    await sync(store, source, ok(*TEN))
    broken = {
        "status": "succeeded",
        "complete": True,
        "postings": [posting(i) for i in TEN[:9]] + [{**posting("9"), "title": ""}],
    }
    with pytest.raises(BadRequest, match="external_id and a title"):
        await sync(store, source, broken)
    runs = await (
        await db.execute("select count(*) as n from poll_runs where source_id = %s", (source,))
    ).fetchone()
    assert runs["n"] == 1  # the refused sync left nothing behind


async def test_unknown_source_is_not_found(store: Store, db: Any) -> None:
    with pytest.raises(NotFound):
        await sync(store, str(uuid.uuid4()), ok("1"))


async def test_postings_that_are_not_a_list_are_refused(store: Store, db: Any) -> None:
    source = await add_source(db)
    with pytest.raises(BadRequest):
        await sync(store, source, {"status": "succeeded", "complete": True, "postings": {"1": "x"}})


async def test_normalised_fields_are_stored(store: Store, db: Any) -> None:
    source = await add_source(db)
    rich = posting(
        "42",
        workplace_type="hybrid",
        remote=False,
        employment_type="full_time",
        salary_min=90000,
        salary_max=120000,
        salary_currency="EUR",
        salary_period="year",
        department="Engineering",
        description_text="Build things.",
    )
    await sync(store, source, {"status": "succeeded", "complete": True, "postings": [rich]})
    row = await (await db.execute("select * from postings where external_id = '42'")).fetchone()
    assert row["workplace_type"] == "hybrid"
    assert row["employment_type"] == "full_time"
    assert (row["salary_min"], row["salary_max"], row["salary_currency"]) == (90000, 120000, "EUR")
    assert row["posted_at"].isoformat() == "2026-11-01T09:00:00+00:00"
