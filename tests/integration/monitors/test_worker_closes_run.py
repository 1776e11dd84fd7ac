"""The scan worker closes a monitor's run: a run planned and queued by the service, each of
its scans processed by the worker's own process_scan over real Postgres."""

from __future__ import annotations

from typing import Any

import psycopg

from scout.audit.scan_processing import process_scan
from scout.monitors.store import MonitorStore
from scout.store.postgres import PostgresStore
from tests.integration.monitors.listed_runs import create_listed_monitor, run_listed_monitor
from tests.support.audit_fakes import FinishingScanner, MemoryArtifacts, RecordingQueue

PAGES = ["https://shop.example/", "https://shop.example/cart", "https://blog.example/"]


async def test_the_worker_finishing_the_last_scan_closes_the_run_once(
    postgres_store: PostgresStore, db: psycopg.AsyncConnection[dict[str, Any]]
) -> None:
    # Given a monitor with a webhook over pages of two hosts, run by the service
    monitor = await create_listed_monitor(postgres_store, PAGES, webhook_url="https://hooks.example/in")
    queue = RecordingQueue()
    run = await run_listed_monitor(postgres_store, monitor, queue)
    # Then every page went on the queue in its host's group
    assert sorted(host for _, host in queue.sent) == ["blog.example", "shop.example", "shop.example"]
    # When the worker processes each message
    scanner = FinishingScanner()
    for scan_id, _ in queue.sent:
        done = await process_scan(
            scan_id,
            store=postgres_store,
            scanner=scanner,
            artifacts=MemoryArtifacts(),
            lease_seconds=60,
            max_attempts=4,
        )
        assert done.outcome == "finished"
    # Then exactly the planned pages were scanned, and the run finished with one event
    assert sorted(scanner.scanned) == sorted(PAGES)
    [listed] = (await MonitorStore(postgres_store).list_runs(monitor.id, "user:u1", None, 5)).items
    assert (listed.id, listed.status, listed.pages_scanned, listed.pages_failed) == (run.id, "finished", 3, 0)
    events = await (
        await db.execute("select type from public.webhook_events where run_id = %s", (run.id,))
    ).fetchall()
    assert events == [{"type": "monitor.run.finished"}]
