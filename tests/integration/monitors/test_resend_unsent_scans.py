"""A run start whose queue fails part way: the scheduler's tick re-sends the scans that never
reached the queue, exactly once, and never one a worker already holds (real Postgres)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest

from scout.errors import UpstreamFailed
from scout.monitors.scheduling import resend_unsent_scans, run_due_monitors
from scout.store.postgres import PostgresStore
from tests.integration.monitors.listed_runs import create_listed_monitor, run_listed_monitor
from tests.support.audit_fakes import RecordingQueue

PAGES = [
    "https://shop.example/",
    "https://shop.example/cart",
    "https://shop.example/help",
    "https://blog.example/",
]


@dataclass
class QueueFailingAfter:
    """A scan queue that takes ``accepted`` messages, then raises as an unreachable SQS would."""

    accepted: int
    sent: list[tuple[UUID, str]] = field(default_factory=list)

    async def send(self, scan_id: UUID, target_host: str) -> None:
        if len(self.sent) >= self.accepted:
            raise ConnectionError("SQS is unreachable")
        self.sent.append((scan_id, target_host))


async def start_half_queued_run(store: PostgresStore) -> tuple[UUID, QueueFailingAfter]:
    monitor = await create_listed_monitor(store, PAGES)
    queue = QueueFailingAfter(accepted=2)
    with pytest.raises(UpstreamFailed) as raised:
        await run_listed_monitor(store, monitor, queue)
    assert raised.value.code == "queue_unavailable"
    return monitor.id, queue


async def test_the_next_ticks_resend_the_scans_a_failed_queue_left_behind_exactly_once(
    postgres_store: PostgresStore,
) -> None:
    # Given a run of 4 pages whose queue failed after the 2nd page
    _, failing = await start_half_queued_run(postgres_store)
    assert len(failing.sent) == 2
    # When the scheduler ticks twice (the lost scans counted as unsent at once)
    queue = RecordingQueue()
    async with httpx.AsyncClient() as unused_client:
        first = await resend_unsent_scans(store=postgres_store, queue=queue, unsent_seconds=0)
        second = await run_due_monitors(store=postgres_store, queue=queue, sitemap_client=unused_client)
    # Then the other 2 scans were sent once, and the 2 already on the queue were not sent again
    assert (first, second.resent) == (2, 0)
    sent_before = {scan_id for scan_id, _ in failing.sent}
    resent = [scan_id for scan_id, _ in queue.sent]
    assert len(resent) == 2
    assert len(set(resent)) == 2
    assert not sent_before & set(resent)


async def test_a_scan_recorded_moments_ago_is_not_resent_yet(postgres_store: PostgresStore) -> None:
    # Given a half-queued run just started (its start may still be sending)
    await start_half_queued_run(postgres_store)
    # When a tick runs with the default threshold
    queue = RecordingQueue()
    resent = await resend_unsent_scans(store=postgres_store, queue=queue)
    # Then nothing is sent yet
    assert (resent, queue.sent) == (0, [])


async def test_a_resend_that_fails_leaves_the_scans_for_the_next_tick(postgres_store: PostgresStore) -> None:
    # Given a half-queued run and a queue that is still down
    await start_half_queued_run(postgres_store)
    down = RecordingQueue(failure=ConnectionError("SQS is unreachable"))
    # When a tick cannot send, and a later one can
    assert await resend_unsent_scans(store=postgres_store, queue=down, unsent_seconds=0) == 0
    up = RecordingQueue()
    later = await resend_unsent_scans(store=postgres_store, queue=up, unsent_seconds=0)
    # Then the later tick sends both lost scans
    assert (later, len(up.sent)) == (2, 2)


async def test_a_scan_a_worker_claimed_is_never_resent(
    postgres_store: PostgresStore, db: psycopg.AsyncConnection[dict[str, Any]]
) -> None:
    # Given a half-queued run whose unsent scans a worker claimed anyway (a send that reached
    # SQS while its mark was lost)
    await start_half_queued_run(postgres_store)
    await db.execute(
        "update public.scans set status = 'running', attempts = 1, started_at = now() "
        "where monitor_run_id is not null and enqueued_at is null"
    )
    # When a tick runs
    queue = RecordingQueue()
    resent = await resend_unsent_scans(store=postgres_store, queue=queue, unsent_seconds=0)
    # Then it sends nothing
    assert (resent, queue.sent) == (0, [])
