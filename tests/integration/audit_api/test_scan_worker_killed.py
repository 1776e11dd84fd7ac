"""A scan worker killed mid-scan loses no scan: the scan it claimed is run again.

A real worker process claims a scan (real Postgres) and is killed while its scan runs; once
the claim's lease has run out, the next attempt (the message back from the queue) claims it
as attempt 2 and finishes it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from typing import Any
from uuid import UUID

import psycopg

from scout.audit.scan_processing import process_scan
from scout.store import Store
from tests.support.audit_fakes import FinishingScanner, MemoryArtifacts
from tests.support.functions import ROOT

# A worker whose scan never ends: it says when it started scanning, then hangs until killed.
HANGING_WORKER = """
import asyncio, sys
from uuid import UUID
from scout.audit.scan_processing import process_scan
from scout.store.postgres import PostgresStore

class HangingScanner:
    async def scan(self, url, device, *, runs=1, budget=None):
        print("scanning", flush=True)
        await asyncio.sleep(3600)

async def main():
    store = PostgresStore(sys.argv[1])
    await process_scan(UUID(sys.argv[2]), store=store, scanner=HangingScanner(),
                       artifacts=None, lease_seconds=int(sys.argv[3]), max_attempts=4)

asyncio.run(main())
"""
LEASE_SECONDS = 1


async def queued_scan(db: psycopg.AsyncConnection[dict[str, Any]]) -> UUID:
    cursor = await db.execute(
        "insert into public.scans (owner, url, target_host, device)"
        " values ('user:u1', 'https://example.com/', 'example.com', 'desktop') returning id"
    )
    row = await cursor.fetchone()
    assert row is not None
    scan_id: UUID = row["id"]
    return scan_id


def start_hanging_worker(database_url: str, scan_id: UUID) -> subprocess.Popen[str]:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "scout"), str(ROOT)])}
    environment.setdefault("ALLOWED_HOSTS", "localhost")
    worker = subprocess.Popen(
        [sys.executable, "-c", HANGING_WORKER, database_url, str(scan_id), str(LEASE_SECONDS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env=environment,
    )
    assert worker.stdout is not None
    deadline = time.monotonic() + 60
    for line in worker.stdout:
        if line.strip() == "scanning" or time.monotonic() > deadline:
            break
    return worker


async def test_a_scan_whose_worker_was_killed_mid_scan_is_claimed_again_and_finished(
    clean_database: str, db: psycopg.AsyncConnection[dict[str, Any]], postgres_store: Store
) -> None:
    # Given a queued scan that a worker process claimed and was scanning when it was killed
    scan_id = await queued_scan(db)
    worker = start_hanging_worker(clean_database, scan_id)
    try:
        running = await postgres_store.call("get_scan", p_scan_id=scan_id, p_owner=None)
        assert (running["status"], running["attempts"]) == ("running", 1)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    # When its message comes back after the claim's lease ran out
    await asyncio.sleep(LEASE_SECONDS + 0.5)
    artifacts = MemoryArtifacts()
    done = await process_scan(
        scan_id,
        store=postgres_store,
        scanner=FinishingScanner(),
        artifacts=artifacts,
        lease_seconds=60,
        max_attempts=4,
    )
    # Then the second attempt claimed it and finished it, with its artifacts
    assert (done.outcome, done.status) == ("finished", "succeeded")
    scan = await postgres_store.call("get_scan", p_scan_id=scan_id, p_owner=None)
    assert (scan["status"], scan["attempts"]) == ("succeeded", 2)
    assert f"scans/{scan_id}/screenshot.png" in artifacts.objects
