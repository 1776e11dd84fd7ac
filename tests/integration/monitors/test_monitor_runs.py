"""A monitor's runs on a real Postgres: planned in one round trip, counted by the worker's
finish_scan, closed once by the last scan, with the webhook event in the same transaction."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import psycopg
import pytest

from scout.errors import ErrorInfo, NotFound
from scout.monitors.models import MonitorRequest
from scout.monitors.store import MonitorStore, PlannedPage
from scout.store import Store
from scout.store.postgres import PostgresStore

Db = psycopg.AsyncConnection[dict[str, Any]]
SECRET = "s" * 43
PAGES = [PlannedPage(f"https://shop.example/p{n}", "shop.example") for n in range(3)]


async def make_monitor(store: Store, owner: str = "user:u1", **fields: Any) -> UUID:
    request = MonitorRequest.model_validate(
        {"name": "shop", "urls": ["https://shop.example/"], "runs": 2, **fields}
    )
    created = await MonitorStore(store).create_monitor(
        owner, request, webhook_secret=SECRET, next_run_at=None
    )
    return created.id


async def finish(store: Store, scan_id: UUID, status: str = "succeeded", budget: Any = None) -> None:
    claim = await store.call("claim_scan", p_scan_id=scan_id, p_lease_seconds=150, p_max_attempts=4)
    result = {
        "status": status,
        "final_url": None,
        "error": None,
        "lighthouse": None,
        "axe": None,
        "budget": budget,
    }
    await store.call(
        "finish_scan", p_scan_id=scan_id, p_attempt=claim["scan"]["attempts"], p_result=result, p_artifacts=[]
    )


async def test_a_run_queues_one_scan_per_planned_page_with_the_monitors_settings(
    store: Store, db: Db
) -> None:
    # Given a monitor asking for two runs per scan and a budget
    monitor_id = await make_monitor(store, budget={"scores": {"performance": 0.9}})
    # When a run starts with three planned pages
    started = await MonitorStore(store).start_run(
        monitor_id, "user:u1", trigger="manual", pages=PAGES, error=None, next_run_at=None
    )
    # Then the run is running with three pages, and three queued scans belong to it
    assert (started.run.status, started.run.pages_planned, started.run.pages) == (
        "running",
        3,
        [page.url for page in PAGES],
    )
    assert sorted(scan.url for scan in started.scans) == [page.url for page in PAGES]
    rows = await (
        await db.execute(
            "select status, runs, budget_limits, target_host from public.scans where monitor_run_id = %s",
            (started.run.id,),
        )
    ).fetchall()
    assert len(rows) == 3
    assert all(
        row["status"] == "queued" and row["runs"] == 2 and row["target_host"] == "shop.example"
        for row in rows
    )
    assert rows[0]["budget_limits"]["scores"] == {"performance": 0.9}


async def test_a_planning_error_fails_the_run_and_changes_nothing_else(store: Store, db: Db) -> None:
    # Given a monitor
    monitor_id = await make_monitor(store)
    # When its plan failed on a hostile sitemap
    error = ErrorInfo(code="sitemap_too_large", message="The sitemap is larger than 50 MB.")
    started = await MonitorStore(store).start_run(
        monitor_id, "user:u1", trigger="schedule", pages=[], error=error, next_run_at=None
    )
    # Then the run is failed with that error, and no scan was made
    assert (started.run.status, started.run.error, started.scans) == ("failed", error, [])
    count = await (await db.execute("select count(*) as n from public.scans")).fetchone()
    assert count == {"n": 0}


async def test_another_owner_cannot_start_or_list_runs_of_a_monitor(store: Store) -> None:
    monitor_id = await make_monitor(store)
    monitors = MonitorStore(store)
    with pytest.raises(NotFound):
        await monitors.start_run(
            monitor_id, "user:u2", trigger="manual", pages=PAGES, error=None, next_run_at=None
        )
    with pytest.raises(NotFound):
        await monitors.list_runs(monitor_id, "user:u2", None, 10)


async def test_the_last_scan_closes_the_run_with_its_counters_and_one_outbox_event(
    store: Store, db: Db
) -> None:
    # Given a monitor with a webhook and a run of three pages
    monitor_id = await make_monitor(store, webhook_url="https://hooks.example/in")
    monitors = MonitorStore(store)
    started = await monitors.start_run(
        monitor_id, "user:u1", trigger="manual", pages=PAGES, error=None, next_run_at=None
    )
    first, second, third = (scan.id for scan in started.scans)
    # When two scans finish, one passing its budget and one failing
    await finish(store, first, budget={"passed": True, "failures": []})
    await finish(store, second, status="failed")
    # Then the run is still running, counting them
    [run] = (await monitors.list_runs(monitor_id, "user:u1", None, 10)).items
    assert (run.status, run.pages_scanned, run.pages_failed, run.budget_passed) == ("running", 1, 1, 1)
    # When the last one finishes with a failed budget
    await finish(store, third, budget={"passed": False, "failures": []})
    # Then the run is finished, and one monitor.run.finished event waits in the outbox
    [run] = (await monitors.list_runs(monitor_id, "user:u1", None, 10)).items
    assert (run.status, run.pages_scanned, run.pages_failed, run.budget_passed, run.budget_failed) == (
        "finished",
        2,
        1,
        1,
        1,
    )
    assert run.finished_at is not None
    events = await (
        await db.execute(
            "select type, payload, enqueued_at from public.webhook_events where run_id = %s", (run.id,)
        )
    ).fetchall()
    assert [event["type"] for event in events] == ["monitor.run.finished"]
    payload = events[0]["payload"]
    assert payload["type"] == "monitor.run.finished"
    assert payload["monitor"]["id"] == str(monitor_id)
    assert payload["run"]["status"] == "finished"
    assert sorted(page["url"] for page in payload["pages"]) == [page.url for page in PAGES]
    assert events[0]["enqueued_at"] is None


async def test_a_monitor_without_a_webhook_closes_its_run_with_no_event(store: Store, db: Db) -> None:
    monitor_id = await make_monitor(store)
    started = await MonitorStore(store).start_run(
        monitor_id, "user:u1", trigger="manual", pages=PAGES[:1], error=None, next_run_at=None
    )
    await finish(store, started.scans[0].id)
    count = await (await db.execute("select count(*) as n from public.webhook_events")).fetchone()
    assert count == {"n": 0}


async def test_concurrent_last_finishes_close_the_run_exactly_once(clean_database: str, db: Db) -> None:
    # Given a run of three pages, each scan claimed by its own worker
    setup = PostgresStore(clean_database)
    monitor_id = await make_monitor(setup, webhook_url="https://hooks.example/in")
    started = await MonitorStore(setup).start_run(
        monitor_id, "user:u1", trigger="manual", pages=PAGES, error=None, next_run_at=None
    )
    workers = [PostgresStore(clean_database) for _ in started.scans]
    try:
        # When all three finish at the same moment, on three connections
        await asyncio.gather(
            *(finish(worker, scan.id) for worker, scan in zip(workers, started.scans, strict=True))
        )
    finally:
        for worker in workers:
            await worker.aclose()
        await setup.aclose()
    # Then the run counts each once and is closed once, with one event
    row = await (
        await db.execute(
            "select status, pages_scanned from public.monitor_runs where id = %s", (started.run.id,)
        )
    ).fetchone()
    assert row == {"status": "finished", "pages_scanned": 3}
    events = await (await db.execute("select count(*) as n from public.webhook_events")).fetchone()
    assert events == {"n": 1}


async def test_a_scan_given_up_on_counts_as_failed_and_can_close_the_run(store: Store, db: Db) -> None:
    # Given a run of one page whose scan already used its last attempt
    monitor_id = await make_monitor(store)
    monitors = MonitorStore(store)
    started = await monitors.start_run(
        monitor_id, "user:u1", trigger="manual", pages=PAGES[:1], error=None, next_run_at=None
    )
    await db.execute("update public.scans set attempts = 4 where id = %s", (started.scans[0].id,))
    # When a worker claims it once more and claim_scan gives up on it
    answer = await store.call(
        "claim_scan", p_scan_id=started.scans[0].id, p_lease_seconds=150, p_max_attempts=4
    )
    assert answer["outcome"] == "gave_up"
    # Then the run counts the page as failed and is finished
    [run] = (await monitors.list_runs(monitor_id, "user:u1", None, 10)).items
    assert (run.status, run.pages_failed, run.pages_scanned) == ("finished", 1, 0)


def audited(performance: int, violations: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "lighthouse": {
            "scores": {"performance": performance, "accessibility": 95, "best-practices": 90, "seo": 90}
        },
        "axe": {"violations": violations, "counts": {}},
    }


async def finish_with(store: Store, scan_id: UUID, found: dict[str, Any]) -> None:
    claim = await store.call("claim_scan", p_scan_id=scan_id, p_lease_seconds=150, p_max_attempts=4)
    result = {"status": "succeeded", "final_url": None, "error": None, "budget": None, **found}
    await store.call(
        "finish_scan", p_scan_id=scan_id, p_attempt=claim["scan"]["attempts"], p_result=result, p_artifacts=[]
    )


async def test_a_second_run_names_the_page_that_got_worse_in_a_regression_event(store: Store, db: Db) -> None:
    # Given a monitor with a webhook whose first run of two pages finished cleanly
    monitor_id = await make_monitor(store, webhook_url="https://hooks.example/in")
    monitors = MonitorStore(store)
    pages = PAGES[:2]

    async def run(found: list[dict[str, Any]]) -> UUID:
        started = await monitors.start_run(
            monitor_id, "user:u1", trigger="manual", pages=pages, error=None, next_run_at=None
        )
        by_url = {scan.url: scan.id for scan in started.scans}
        for page, result in zip(pages, found, strict=True):
            await finish_with(store, by_url[page.url], result)
        return started.run.id

    await run([audited(90, []), audited(90, [])])
    missing_alt = {
        "id": "image-alt",
        "impact": "critical",
        "help": "Images must have alternate text",
        "nodes": [{"target": ["img.hero"], "html": "<img>"}],
    }
    # When the second run finds the second page slower and with an image losing its alt
    second = await run([audited(89, []), audited(70, [missing_alt])])
    # Then the run's regressions name that page alone, with both reasons
    [latest, _] = (await monitors.list_runs(monitor_id, "user:u1", None, 10)).items
    assert latest.id == second
    [regressed] = latest.regressions
    assert regressed["url"] == pages[1].url
    reasons = {(reason["kind"], reason["key"]) for reason in regressed["reasons"]}  # type: ignore[union-attr]
    assert reasons == {("score", "performance"), ("violation", "image-alt")}
    # And a monitor.regression event names it beside monitor.run.finished
    events = await (
        await db.execute(
            "select type, payload from public.webhook_events where run_id = %s order by type", (second,)
        )
    ).fetchall()
    assert [event["type"] for event in events] == ["monitor.regression", "monitor.run.finished"]
    assert [page["url"] for page in events[0]["payload"]["pages"]] == [pages[1].url]
