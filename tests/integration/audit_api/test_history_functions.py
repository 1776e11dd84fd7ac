"""The runs, budget, history and diff SQL functions on a real Postgres, through both store
adapters (DESIGN §3). Givens that need a time in the past are plain SQL (``db``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from scout.errors import BadRequest, NotFound
from scout.store import Store
from tests.integration.audit_api.test_scan_functions import Db, create, insert_scan

PAGE = "https://example.com/"
NOW = datetime.now(UTC)
VERDICT = {"passed": False, "failures": [{"kind": "axe", "key": "critical", "limit": 0, "actual": 2}]}


async def create_with(
    store: Store, *, runs: int, limits: dict[str, Any] | None = None, url: str = PAGE, key: str | None = None
) -> dict[str, Any]:
    return await create(store, url=url, key=key, limit=None, runs=runs, budget_limits=limits)


async def history(store: Store, owner: str = "user:u1", page: str = PAGE, **paging: Any) -> dict[str, Any]:
    page_of: dict[str, Any] = await store.call(
        "scan_history",
        p_owner=owner,
        p_page_url=page,
        p_device=paging.pop("device", "mobile"),
        p_limit=paging.pop("limit", 20),
        p_after_created_at=paging.pop("after_created_at", None),
        p_after_id=paging.pop("after_id", None),
    )
    return page_of


async def pair(
    store: Store, scan_id: UUID, owner: str | None = "user:u1", against: UUID | None = None
) -> Any:
    return await store.call("scan_diff_pair", p_scan_id=scan_id, p_owner=owner, p_against=against)


async def test_a_scan_is_stored_with_its_runs_and_budget_limits(store: Store) -> None:
    limits = {"scores": {"performance": 0.9}, "metrics": {}, "axe": {"critical": 0}}
    created = await create_with(store, runs=3, limits=limits, url="https://example.com/a#x")
    scan = created["scan"]
    assert (scan["runs"], scan["budget_limits"], scan["budget"]) == (3, limits, None)
    assert scan["page_url"] == "https://example.com/a"


async def test_a_scan_created_without_runs_is_one_run_without_a_budget(store: Store) -> None:
    scan = (await create(store))["scan"]
    assert (scan["runs"], scan["budget_limits"]) == (1, None)


@pytest.mark.parametrize("runs", [0, 6])
async def test_runs_outside_one_to_five_are_refused(store: Store, runs: int) -> None:
    with pytest.raises(BadRequest):
        await create_with(store, runs=runs)


async def test_a_key_replays_only_the_same_runs_and_budget(store: Store, db: Db) -> None:
    async def with_key(runs: int, limits: dict[str, Any] | None) -> dict[str, Any]:
        return await create_with(store, runs=runs, limits=limits, key="k1")

    limits = {"scores": {}, "metrics": {}, "axe": {"serious": 0}}
    first = await with_key(2, limits)
    assert (await with_key(2, limits))["outcome"] == "replayed"
    assert (await with_key(3, limits))["outcome"] == "idempotency_key_reused"
    assert (await with_key(2, None))["outcome"] == "idempotency_key_reused"
    count = await (await db.execute("select count(*) as n from public.scans")).fetchone()
    assert count == {"n": 1}
    assert first["outcome"] == "created"


async def test_the_finished_result_keeps_its_budget_verdict(store: Store, db: Db) -> None:
    scan_id = UUID((await create(store))["scan"]["id"])
    claim = await store.call("claim_scan", p_scan_id=scan_id, p_lease_seconds=60, p_max_attempts=3)
    finished = await store.call(
        "finish_scan",
        p_scan_id=scan_id,
        p_attempt=claim["scan"]["attempts"],
        p_result={"status": "succeeded", "final_url": PAGE, "budget": VERDICT},
        p_artifacts=[],
    )
    assert finished["scan"]["budget"] == VERDICT
    assert (await store.call("get_scan", p_scan_id=scan_id, p_owner=None))["budget"] == VERDICT


async def test_a_history_holds_one_owners_scans_of_one_page_and_device_newest_first(
    store: Store, db: Db
) -> None:
    oldest = await insert_scan(db, age="3 hours", url="https://example.com/#top")
    newest = await insert_scan(db, age="1 hour")
    await insert_scan(db, age="2 hours", device="desktop")
    await insert_scan(db, age="2 hours", url="https://example.com/other")
    await insert_scan(db, age="2 hours", owner="user:u2")
    page = await history(store)
    assert [UUID(item["id"]) for item in page["items"]] == [newest, oldest]
    assert page["next"] is None
    assert set(page["items"][0]) == {
        "id",
        "url",
        "device",
        "status",
        "runs",
        "error",
        "scores",
        "metrics",
        "axe_counts",
        "budget",
        "created_at",
        "finished_at",
    }


async def test_history_pages_continue_after_the_last_item_without_gaps(store: Store, db: Db) -> None:
    made = [await insert_scan(db, age=f"{hours} hours") for hours in (5, 4, 3, 2, 1)]
    seen: list[UUID] = []
    after: dict[str, Any] = {}
    while True:
        page = await history(store, limit=2, **after)
        seen += [UUID(item["id"]) for item in page["items"]]
        if page["next"] is None:
            break
        after = {"after_created_at": page["next"]["created_at"], "after_id": page["next"]["id"]}
    assert seen == list(reversed(made))


@pytest.mark.parametrize(
    "paging", [{"limit": 0}, {"limit": 101}, {"after_id": "00000000-0000-4000-8000-000000000000"}]
)
async def test_a_history_page_needs_a_sane_limit_and_a_whole_cursor(
    store: Store, paging: dict[str, Any]
) -> None:
    with pytest.raises(BadRequest):
        await history(store, **paging)


async def test_a_scan_pairs_with_the_newest_earlier_finished_scan_of_its_page(store: Store, db: Db) -> None:
    await insert_scan(db, age="5 hours", status="succeeded", finished_at=NOW)
    compared = await insert_scan(db, age="4 hours", status="partial", finished_at=NOW)
    await insert_scan(db, age="3 hours", status="failed", finished_at=NOW)
    await insert_scan(db, age="3 hours", status="succeeded", finished_at=NOW, device="desktop")
    await insert_scan(db, age="3 hours", status="succeeded", finished_at=NOW, owner="user:u2")
    scan = await insert_scan(db, age="2 hours", status="succeeded", finished_at=NOW)
    await insert_scan(db, age="1 hour", status="succeeded", finished_at=NOW)
    found = await pair(store, scan)
    assert (UUID(found["scan"]["id"]), UUID(found["against"]["id"])) == (scan, compared)


async def test_a_scan_with_no_earlier_finished_scan_pairs_with_nothing(store: Store, db: Db) -> None:
    await insert_scan(db, age="3 hours")  # queued: nothing to compare
    scan = await insert_scan(db, age="1 hour", status="succeeded", finished_at=NOW)
    assert (await pair(store, scan))["against"] is None


async def test_a_named_scan_of_another_owner_reads_like_a_missing_one(store: Store, db: Db) -> None:
    mine = await insert_scan(db, status="succeeded", finished_at=NOW)
    theirs = await insert_scan(db, owner="user:u2", status="succeeded", finished_at=NOW)
    for owner in ("user:u1", None):
        with pytest.raises(NotFound):
            await pair(store, mine, owner=owner, against=theirs)
    with pytest.raises(NotFound):
        await pair(store, theirs, owner="user:u1")
    named = await pair(store, theirs, owner=None)
    assert named["against"] is None
