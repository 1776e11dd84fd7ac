"""The scans SQL functions on a real Postgres, through both store adapters.

Given rows are written with plain SQL (``db``) where a test needs a time in the past; every
When goes through the store, exactly as the API and the worker call it.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest

from scout.errors import BadRequest, NotFound
from scout.store import Store

Db = psycopg.AsyncConnection[dict[str, Any]]
HOUR = 3600


async def create(
    store: Store,
    *,
    owner: str = "user:u1",
    url: str = "https://example.com/",
    device: str = "mobile",
    key: str | None = None,
    limit: int | None = 10,
    window: int = HOUR,
    runs: int | None = None,
    budget_limits: dict[str, Any] | None = None,
) -> dict[str, Any]:
    # Left out unless given: callers from before runs and budgets existed send neither.
    asked = {"p_runs": runs, "p_budget_limits": budget_limits}
    outcome: dict[str, Any] = await store.call(
        "create_scan",
        p_owner=owner,
        p_url=url,
        p_target_host="example.com",
        p_device=device,
        p_idempotency_key=key,
        p_rate_limit=limit,
        p_rate_window_seconds=window,
        **{name: value for name, value in asked.items() if value is not None},
    )
    return outcome


async def insert_scan(db: Db, *, owner: str = "user:u1", age: str = "0 seconds", **columns: Any) -> UUID:
    """A scan created ``age`` ago (plain SQL: the functions only ever use now())."""
    values = {"owner": owner, "url": "https://example.com/", "target_host": "example.com", "device": "mobile"}
    values.update(columns)
    names = ", ".join(values)
    placeholders = ", ".join(f"%({name})s" for name in values)
    cursor = await db.execute(
        f"insert into public.scans ({names}, created_at) values ({placeholders}, now() - %(age)s::interval) "
        "returning id",
        {**values, "age": age},
    )
    row = await cursor.fetchone()
    assert row is not None
    scan_id: UUID = row["id"]
    return scan_id


async def count_scans(db: Db) -> int:
    cursor = await db.execute("select count(*) as n from public.scans")
    row = await cursor.fetchone()
    assert row is not None
    return int(row["n"])


# ---- create_scan ------------------------------------------------------------------------------


async def test_a_new_scan_is_queued_with_no_attempts(store: Store) -> None:
    outcome = await create(store)
    assert outcome["outcome"] == "created"
    scan = outcome["scan"]
    assert (scan["status"], scan["attempts"], scan["url"], scan["device"]) == (
        "queued",
        0,
        "https://example.com/",
        "mobile",
    )
    assert scan["finished_at"] is None


async def test_the_same_key_and_request_give_the_same_scan(store: Store, db: Db) -> None:
    first = await create(store, key="k-1")
    again = await create(store, key="k-1")
    assert again["outcome"] == "replayed"
    assert again["scan"]["id"] == first["scan"]["id"]
    assert await count_scans(db) == 1


@pytest.mark.parametrize("change", [{"url": "https://example.com/other"}, {"device": "desktop"}])
async def test_the_same_key_with_another_request_is_refused_and_creates_nothing(
    store: Store, db: Db, change: dict[str, str]
) -> None:
    first = await create(store, key="k-1")
    reused = await create(store, key="k-1", **change)
    assert reused == {"outcome": "idempotency_key_reused", "scan_id": first["scan"]["id"]}
    assert await count_scans(db) == 1


async def test_idempotency_keys_of_different_owners_never_meet(store: Store, db: Db) -> None:
    mine = await create(store, owner="user:u1", key="k-1")
    theirs = await create(store, owner="user:u2", key="k-1")
    assert theirs["outcome"] == "created"
    assert theirs["scan"]["id"] != mine["scan"]["id"]


async def test_over_the_limit_in_the_window_is_rate_limited_and_stores_nothing(store: Store, db: Db) -> None:
    # Given two scans in the last hour, with a limit of two an hour
    await insert_scan(db, age="50 minutes")
    await insert_scan(db, age="10 minutes")
    # When a third is created
    outcome = await create(store, limit=2)
    # Then it is refused until the older one leaves the window, in about ten minutes
    assert outcome["outcome"] == "rate_limited"
    assert 590 <= outcome["retry_after_seconds"] <= 601
    assert await count_scans(db) == 2


async def test_scans_older_than_the_window_do_not_count(store: Store, db: Db) -> None:
    await insert_scan(db, age="61 minutes")
    await insert_scan(db, age="2 hours")
    assert (await create(store, limit=2))["outcome"] == "created"


async def test_the_limit_counts_each_owner_separately(store: Store, db: Db) -> None:
    await insert_scan(db, owner="user:u2", age="1 minute")
    await insert_scan(db, owner="user:u2", age="1 minute")
    assert (await create(store, owner="user:u1", limit=2))["outcome"] == "created"


async def test_a_replay_is_answered_even_over_the_limit(store: Store, db: Db) -> None:
    first = await create(store, key="k-1", limit=1)
    again = await create(store, key="k-1", limit=1)
    assert again["outcome"] == "replayed"
    assert again["scan"]["id"] == first["scan"]["id"]


async def test_concurrent_creates_never_pass_the_limit(postgres_store: Store, db: Db) -> None:
    # When eight scans are created at once with a limit of three
    outcomes = await asyncio.gather(*(create(postgres_store, limit=3) for _ in range(8)))
    # Then exactly three were created
    assert sorted(outcome["outcome"] for outcome in outcomes) == ["created"] * 3 + ["rate_limited"] * 5
    assert await count_scans(db) == 3


async def test_concurrent_requests_with_one_key_make_one_scan(postgres_store: Store, db: Db) -> None:
    outcomes = await asyncio.gather(*(create(postgres_store, key="k-1") for _ in range(6)))
    assert len({outcome["scan"]["id"] for outcome in outcomes}) == 1
    assert await count_scans(db) == 1


async def test_a_device_the_table_does_not_know_is_a_bad_request(store: Store) -> None:
    with pytest.raises(BadRequest):
        await create(store, device="watch")


# ---- discard_queued_scan -------------------------------------------------------------------


async def test_an_unqueued_scan_is_discarded_but_a_claimed_one_is_kept(store: Store, db: Db) -> None:
    queued = await insert_scan(db)
    running = await insert_scan(db, status="running", attempts=1)
    assert await store.call("discard_queued_scan", p_scan_id=queued) == {"discarded": True}
    assert await store.call("discard_queued_scan", p_scan_id=running) == {"discarded": False}
    assert await count_scans(db) == 1


# ---- get_scan and list_scans ---------------------------------------------------------------


async def test_an_owner_reads_their_scan_and_a_service_reads_any(store: Store, db: Db) -> None:
    scan_id = await insert_scan(db, owner="user:u1")
    assert (await store.call("get_scan", p_scan_id=scan_id, p_owner="user:u1"))["id"] == str(scan_id)
    assert (await store.call("get_scan", p_scan_id=scan_id, p_owner=None))["id"] == str(scan_id)


async def test_another_owners_scan_reads_exactly_like_a_missing_one(store: Store, db: Db) -> None:
    scan_id = await insert_scan(db, owner="user:u1")
    with pytest.raises(NotFound) as other_owner:
        await store.call("get_scan", p_scan_id=scan_id, p_owner="user:u2")
    missing = uuid4()
    with pytest.raises(NotFound) as no_scan:
        await store.call("get_scan", p_scan_id=missing, p_owner="user:u2")
    assert other_owner.value.message.replace(str(scan_id), "ID") == no_scan.value.message.replace(
        str(missing), "ID"
    )


async def test_pages_walk_an_owners_scans_newest_first_without_gaps_or_repeats(store: Store, db: Db) -> None:
    # Given five scans of mine, two of them created at the very same instant, and one of another owner
    ids = [await insert_scan(db, age=f"{minutes} minutes") for minutes in (50, 40, 30, 20)]
    twin = await insert_scan(db, age="20 minutes")
    await db.execute(
        "update public.scans set created_at = (select created_at from public.scans where id = %s) "
        "where id = %s",
        [ids[3], twin],
    )
    await insert_scan(db, owner="user:u2")
    # When they are listed two at a time
    seen: list[str] = []
    after: dict[str, Any] | None = None
    pages = 0
    while True:
        page = await store.call(
            "list_scans",
            p_owner="user:u1",
            p_limit=2,
            p_after_created_at=after["created_at"] if after else None,
            p_after_id=after["id"] if after else None,
        )
        pages += 1
        seen += [item["id"] for item in page["items"]]
        after = page["next"]
        if after is None:
            break
    # Then every scan of mine comes once, newest first, in three pages
    assert pages == 3
    assert sorted(seen) == sorted(str(scan_id) for scan_id in [*ids, twin])
    assert seen[-3:] == [str(ids[2]), str(ids[1]), str(ids[0])]


async def test_an_owner_without_scans_gets_an_empty_last_page(store: Store) -> None:
    page = await store.call(
        "list_scans", p_owner="user:nobody", p_limit=20, p_after_created_at=None, p_after_id=None
    )
    assert page == {"items": [], "next": None}


async def test_a_page_size_over_one_hundred_is_refused(store: Store) -> None:
    with pytest.raises(BadRequest):
        await store.call(
            "list_scans", p_owner="user:u1", p_limit=101, p_after_created_at=None, p_after_id=None
        )


# ---- claim_scan and finish_scan -----------------------------------------------------------


async def claim(store: Store, scan_id: UUID, *, lease: int = 150, max_attempts: int = 4) -> dict[str, Any]:
    outcome: dict[str, Any] = await store.call(
        "claim_scan", p_scan_id=scan_id, p_lease_seconds=lease, p_max_attempts=max_attempts
    )
    return outcome


RESULT = {
    "url": "https://example.com/",
    "final_url": "https://example.com/",
    "device": "mobile",
    "status": "succeeded",
    "error": None,
    "lighthouse": {"scores": {"performance": 98, "accessibility": 100, "best-practices": 96, "seo": 91}},
    "axe": {"violations": [], "counts": {"critical": 0, "serious": 0, "moderate": 0, "minor": 0}},
    "timings": {"total_ms": 4100, "navigation_ms": 300, "lighthouse_ms": 3900, "axe_ms": 200},
}
STORED = [
    {"name": "screenshot.png", "key": "scans/x/screenshot.png", "content_type": "image/png", "size_bytes": 9}
]


async def test_a_queued_scan_is_claimed_as_its_first_attempt(store: Store, db: Db) -> None:
    scan_id = await insert_scan(db)
    outcome = await claim(store, scan_id)
    assert outcome["outcome"] == "claimed"
    assert (outcome["scan"]["status"], outcome["scan"]["attempts"]) == ("running", 1)


async def test_a_scan_held_by_a_live_attempt_is_skipped(store: Store, db: Db) -> None:
    scan_id = await insert_scan(db)
    await claim(store, scan_id)
    assert await claim(store, scan_id) == {"outcome": "skipped", "reason": "in_progress"}


async def test_a_scan_left_running_by_a_crashed_attempt_is_run_again(store: Store, db: Db) -> None:
    # Given a scan whose first attempt's lease ran out while it was running
    scan_id = await insert_scan(db, status="running", attempts=1)
    await db.execute(
        "update public.scans set lease_expires_at = now() - interval '1 second' where id = %s", [scan_id]
    )
    # When the message comes back
    outcome = await claim(store, scan_id)
    # Then it is claimed as the second attempt
    assert outcome["outcome"] == "claimed"
    assert outcome["scan"]["attempts"] == 2


@pytest.mark.parametrize("status", ["succeeded", "partial", "failed"])
async def test_a_finished_scan_is_skipped(store: Store, db: Db, status: str) -> None:
    scan_id = await insert_scan(db, status=status, finished_at="2026-11-25T18:00:00Z")
    assert await claim(store, scan_id) == {"outcome": "skipped", "reason": "finished", "status": status}


async def test_a_message_for_a_scan_that_is_gone_is_skipped(store: Store) -> None:
    assert await claim(store, uuid4()) == {"outcome": "skipped", "reason": "missing"}


async def test_after_the_last_attempt_the_scan_is_failed_for_good(store: Store, db: Db) -> None:
    # Given a scan that used up its attempts and was left running
    scan_id = await insert_scan(db, status="running", attempts=4)
    # When its message comes back once more
    outcome = await claim(store, scan_id, max_attempts=4)
    # Then it ends failed with an error its owner can read
    assert outcome == {"outcome": "gave_up", "attempts": 4}
    scan = await store.call("get_scan", p_scan_id=scan_id, p_owner=None)
    assert scan["status"] == "failed"
    assert scan["error"]["code"] == "internal_error"
    assert scan["finished_at"] is not None


async def test_the_claiming_attempt_stores_the_result_and_artifacts(store: Store, db: Db) -> None:
    scan_id = await insert_scan(db)
    attempt = (await claim(store, scan_id))["scan"]["attempts"]
    finished = await store.call(
        "finish_scan", p_scan_id=scan_id, p_attempt=attempt, p_result=RESULT, p_artifacts=STORED
    )
    assert finished["outcome"] == "finished"
    scan = await store.call("get_scan", p_scan_id=scan_id, p_owner=None)
    assert scan["status"] == "succeeded"
    assert scan["lighthouse"]["scores"]["best-practices"] == 96
    assert scan["timings"]["total_ms"] == 4100
    assert scan["artifacts"] == STORED
    assert scan["error"] is None


async def test_a_superseded_attempt_cannot_overwrite_the_scan(store: Store, db: Db) -> None:
    # Given attempt 1 lost its lease and attempt 2 took the scan over
    scan_id = await insert_scan(db)
    await claim(store, scan_id)
    await db.execute(
        "update public.scans set lease_expires_at = now() - interval '1 second' where id = %s", [scan_id]
    )
    await claim(store, scan_id)
    # When attempt 1 finishes late
    late = await store.call("finish_scan", p_scan_id=scan_id, p_attempt=1, p_result=RESULT, p_artifacts=[])
    # Then its result is dropped and the scan is still attempt 2's
    assert late == {"outcome": "superseded"}
    scan = await store.call("get_scan", p_scan_id=scan_id, p_owner=None)
    assert (scan["status"], scan["attempts"]) == ("running", 2)


async def test_a_result_without_a_final_status_is_refused(store: Store, db: Db) -> None:
    scan_id = await insert_scan(db)
    await claim(store, scan_id)
    with pytest.raises(BadRequest):
        await store.call(
            "finish_scan",
            p_scan_id=scan_id,
            p_attempt=1,
            p_result={**RESULT, "status": "running"},
            p_artifacts=[],
        )


# ---- row level security ----------------------------------------------------------------------


async def test_a_signed_in_user_reads_only_their_own_scans_through_row_level_security(db: Db) -> None:
    # Given scans of two users
    mine = await insert_scan(db, owner="user:u1")
    await insert_scan(db, owner="user:u2")
    await insert_scan(db, owner="service:billing")
    # When u1 reads the table as Supabase's authenticated role with their claims
    async with db.transaction():
        await db.execute("set local role authenticated")
        await db.execute(
            "select set_config('request.jwt.claims', %s, true)", ['{"sub": "u1", "role": "authenticated"}']
        )
        cursor = await db.execute("select id from public.scans")
        rows = await cursor.fetchall()
    # Then only u1's scan is visible
    assert [row["id"] for row in rows] == [mine]


async def test_the_public_role_sees_no_scans_and_users_cannot_write(db: Db) -> None:
    await insert_scan(db, owner="user:u1")
    async with db.transaction():
        await db.execute("set local role anon")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            await db.execute("select id from public.scans")
    async with db.transaction():
        await db.execute("set local role authenticated")
        await db.execute("select set_config('request.jwt.claims', %s, true)", ['{"sub": "u1"}'])
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            await db.execute("update public.scans set status = 'succeeded'")
