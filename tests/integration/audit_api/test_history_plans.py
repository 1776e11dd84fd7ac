"""The plans of the history and diff reads on 10,000 scans of one user: an index serves both.

The rows of ``scan_history`` and of ``scan_diff_pair``'s default comparison come from
``private.page_scans`` and ``private.previous_finished_scan``, SQL functions that Postgres
inlines, so EXPLAIN of a call is the plan the API's read runs. PL/pgSQL settles on a generic
plan (parameters, not values) after a few calls; that one is checked too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

INDEX = "scans_owner_page_device_created_idx"
OWNER = "user:user-1"
PAGE = "https://example.com/page-8"

SEED = """
insert into public.scans (owner, url, target_host, device, status, created_at, finished_at, lighthouse, axe)
select case when n <= 10000 then 'user:user-1' else 'user:user-' || (n % 97 + 2) end,
       'https://example.com/page-' || (n % 50) || case when n % 3 = 0 then '#reviews' else '' end,
       'example.com',
       case when (n / 50) % 2 = 0 then 'mobile' else 'desktop' end,
       case when n % 10 = 0 then 'failed' else 'succeeded' end,
       now() - make_interval(mins => n),
       now() - make_interval(mins => n) + interval '9 seconds',
       jsonb_build_object('scores', jsonb_build_object('performance', 40 + n % 60)),
       jsonb_build_object('counts', jsonb_build_object('critical', n % 3))
from generate_series(1, 12000) n
"""


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


async def explain(db: psycopg.AsyncConnection[dict[str, Any]], query: str, *args: Any) -> dict[str, Any]:
    row = await (await db.execute(f"explain (format json) {query}", args)).fetchone()
    assert row is not None
    plan: dict[str, Any] = row["QUERY PLAN"][0]["Plan"]
    return plan


def assert_served_by_the_index(plan: dict[str, Any]) -> None:
    nodes = list(plan_nodes(plan))
    shown = json.dumps(plan, indent=1)
    assert any(node.get("Index Name") == INDEX for node in nodes), shown
    assert not any(node["Node Type"] in ("Seq Scan", "Sort", "Bitmap Heap Scan") for node in nodes), shown


@pytest.fixture
async def ten_thousand_scans(
    db: psycopg.AsyncConnection[dict[str, Any]],
) -> psycopg.AsyncConnection[dict[str, Any]]:
    """10,000 scans of user-1 over 50 pages and two devices, and 2,000 of other users."""
    await db.execute(SEED)
    await db.execute("analyze public.scans")
    count = await (
        await db.execute("select count(*) as n from public.scans where owner = %s", (OWNER,))
    ).fetchone()
    assert count is not None
    assert count["n"] == 10000
    return db


@pytest.mark.parametrize("cursor", [False, True], ids=["first page", "later page"])
async def test_a_history_page_is_read_from_the_index_in_order(
    ten_thousand_scans: psycopg.AsyncConnection[dict[str, Any]], cursor: bool
) -> None:
    db = ten_thousand_scans
    # When a page of the history of one page and device is planned
    after = ("now()", "'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid") if cursor else ("null", "null")
    plan = await explain(
        db,
        f"select * from private.page_scans(%s, %s, 'mobile', 21, {after[0]}, {after[1]})",
        OWNER,
        PAGE,
    )
    # Then the index finds the rows already in order, and the limit stops the scan early
    assert_served_by_the_index(plan)
    assert plan["Node Type"] == "Limit"


async def test_the_generic_history_plan_is_read_from_the_index(
    ten_thousand_scans: psycopg.AsyncConnection[dict[str, Any]],
) -> None:
    db = ten_thousand_scans
    await db.execute("set plan_cache_mode = force_generic_plan")
    await db.execute(
        "prepare history_page(text, text, text, integer, timestamptz, uuid) as "
        "select * from private.page_scans($1, $2, $3, $4, $5, $6)"
    )
    # (EXPLAIN EXECUTE takes no bound parameters: the arguments are this test's constants.)
    plan = await explain(db, f"execute history_page('{OWNER}', '{PAGE}', 'mobile', 21, null, null)")
    assert_served_by_the_index(plan)


async def test_the_scan_a_diff_compares_with_is_found_by_the_index(
    ten_thousand_scans: psycopg.AsyncConnection[dict[str, Any]],
) -> None:
    db = ten_thousand_scans
    plan = await explain(
        db,
        "select * from private.previous_finished_scan(%s, %s, 'mobile', now(), %s::uuid)",
        OWNER,
        PAGE,
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
    )
    assert_served_by_the_index(plan)


async def test_the_history_function_answers_from_ten_thousand_scans(
    ten_thousand_scans: psycopg.AsyncConnection[dict[str, Any]],
) -> None:
    # When the API's function reads the first page of one page's mobile history
    row = await (
        await ten_thousand_scans.execute(
            "select public.scan_history(%s, %s, 'mobile', 20, null, null) as page", (OWNER, PAGE)
        )
    ).fetchone()
    assert row is not None
    page = row["page"]
    # Then it holds twenty of that page's mobile scans, fragments or not, newest first
    created = [item["created_at"] for item in page["items"]]
    assert len(created) == 20
    assert created == sorted(created, reverse=True)
    assert {item["url"].split("#")[0] for item in page["items"]} == {PAGE}
    assert {item["device"] for item in page["items"]} == {"mobile"}
    assert page["next"] is not None
