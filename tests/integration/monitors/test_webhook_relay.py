"""The outbox relay over real Postgres: each event on the delivery queue once, even with two
relays at once; a refused send stays in the outbox; the SQS queue on moto; the scan worker
relays after a scan and a relay failure does not fail the scan; the scheduler's tick relays."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import boto3
import httpx
import psycopg
import pytest
from moto import mock_aws

from scout.audit.scan_processing import process_scan_message
from scout.deps import Dependencies
from scout.monitors.scheduling import run_due_monitors
from scout.monitors.webhook_relay import SqsWebhookQueue, event_id_of, relay_outbox
from scout.settings import Settings
from scout.store.postgres import PostgresStore
from tests.integration.monitors.listed_runs import create_listed_monitor, run_listed_monitor
from tests.integration.monitors.webhook_rows import add_event, add_monitor, event_row
from tests.support.audit_fakes import FinishingScanner, MemoryArtifacts, RecordingQueue
from tests.support.webhooks import RecordingWebhookQueue

Db = psycopg.AsyncConnection[dict[str, Any]]


class SlowQueue(RecordingWebhookQueue):
    """Yields on every send, so two relays' sends interleave."""

    async def send(self, event_id: UUID, delay_seconds: int = 0) -> None:
        await asyncio.sleep(0.005)
        await super().send(event_id, delay_seconds)


async def test_two_relays_at_once_put_each_event_on_the_queue_exactly_once(
    db: Db, clean_database: str
) -> None:
    # Given 40 events in the outbox, and two relays with their own connections
    monitor_id = await add_monitor(db, "https://hooks.example/in")
    events = {await add_event(db, monitor_id) for _ in range(40)}
    queue = SlowQueue()
    first, second = PostgresStore(clean_database), PostgresStore(clean_database)

    async def relay_until_empty(store: PostgresStore) -> int:
        total = 0
        while taken := await relay_outbox(store, queue, limit=3):
            total += taken
        return total

    try:
        # When both relay, a few events at a time, at the same time
        counts = await asyncio.gather(relay_until_empty(first), relay_until_empty(second))
        # Then every event was sent once, and both relays took a share
        assert sorted(queue.take_ids()) == sorted(events)
        assert sum(counts) == 40
        assert all(count > 0 for count in counts)
        # And a further relay finds nothing
        assert await relay_outbox(first, queue) == 0
    finally:
        await first.aclose()
        await second.aclose()


async def test_an_event_the_queue_refused_stays_in_the_outbox_for_the_next_relay(
    db: Db, postgres_store: PostgresStore
) -> None:
    # Given two events and a queue that refuses the first
    monitor_id = await add_monitor(db, "https://hooks.example/in")
    refused, accepted = await add_event(db, monitor_id), await add_event(db, monitor_id)
    queue = RecordingWebhookQueue(refuse=lambda event_id: event_id == refused)
    # When the outbox is relayed
    taken = await relay_outbox(postgres_store, queue)
    # Then only the accepted one counts, and the refused one is back in the outbox
    assert taken == 1
    assert queue.take_ids() == [accepted]
    assert (await event_row(db, refused))["enqueued_at"] is None
    assert (await event_row(db, accepted))["enqueued_at"] is not None
    # When the queue is back, Then the next relay sends it
    queue.refuse = lambda event_id: False
    assert await relay_outbox(postgres_store, queue) == 1
    assert queue.take_ids() == [refused]


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


async def test_the_sqs_queue_carries_each_event_id(db: Db, postgres_store: PostgresStore, sqs: Any) -> None:
    # Given an SQS delivery queue (moto) and two outbox events
    url = sqs.create_queue(QueueName="webhooks")["QueueUrl"]
    monitor_id = await add_monitor(db, "https://hooks.example/in")
    events = {await add_event(db, monitor_id), await add_event(db, monitor_id)}
    # When the outbox is relayed onto it
    assert await relay_outbox(postgres_store, SqsWebhookQueue(url, client=sqs)) == 2
    # Then each message's body names one event
    answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    assert {event_id_of(message["Body"]) for message in answer["Messages"]} == events


async def _finished_monitor_scans(postgres_store: PostgresStore) -> tuple[UUID, list[UUID]]:
    monitor = await create_listed_monitor(
        postgres_store,
        ["https://shop.example/", "https://shop.example/cart"],
        webhook_url="https://hooks.example/in",
    )
    scans = RecordingQueue()
    run = await run_listed_monitor(postgres_store, monitor, scans)
    return run.id, [scan_id for scan_id, _ in scans.sent]


def worker_parts(store: PostgresStore, queue: RecordingWebhookQueue) -> Dependencies:
    return Dependencies(
        Settings(ALLOWED_HOSTS="localhost", WEBHOOK_QUEUE_URL="https://sqs.example/webhooks"),
        store=store,
        scanner=FinishingScanner(),
        artifacts=MemoryArtifacts(),
        webhook_queue=queue,
    )


async def test_the_scan_worker_relays_the_event_of_the_run_its_scan_closed(
    db: Db, postgres_store: PostgresStore
) -> None:
    # Given a monitor run of two pages
    run_id, scan_ids = await _finished_monitor_scans(postgres_store)
    queue = RecordingWebhookQueue()
    parts = worker_parts(postgres_store, queue)
    # When the worker processes the first scan, Then the run is open and nothing is relayed
    await process_scan_message(scan_ids[0], parts, 60, 30.0)
    assert queue.take_ids() == []
    # When it processes the last one
    done = await process_scan_message(scan_ids[1], parts, 60, 30.0)
    # Then the run's finished event is on the delivery queue right away
    assert done.outcome == "finished"
    [event] = await (
        await db.execute("select id, enqueued_at from public.webhook_events where run_id = %s", (run_id,))
    ).fetchall()
    assert queue.take_ids() == [event["id"]]
    assert event["enqueued_at"] is not None


async def test_a_failed_relay_does_not_fail_the_scan_and_the_scheduler_relays_later(
    db: Db, postgres_store: PostgresStore
) -> None:
    # Given a monitor run of two pages, and a delivery queue that is down
    run_id, scan_ids = await _finished_monitor_scans(postgres_store)
    down = RecordingWebhookQueue(refuse=lambda event_id: True)
    parts = worker_parts(postgres_store, down)
    # When the worker processes both scans
    outcomes = [(await process_scan_message(scan_id, parts, 60, 30.0)).outcome for scan_id in scan_ids]
    # Then both scans finished, and the run's event waits in the outbox
    assert outcomes == ["finished", "finished"]
    [event] = await (
        await db.execute("select id, enqueued_at from public.webhook_events where run_id = %s", (run_id,))
    ).fetchall()
    assert event["enqueued_at"] is None
    # When the monitor scheduler ticks with the queue back
    queue = RecordingWebhookQueue()
    async with httpx.AsyncClient() as unused_client:
        await run_due_monitors(
            store=postgres_store, queue=RecordingQueue(), sitemap_client=unused_client, webhook_queue=queue
        )
    # Then the tick relays it
    assert queue.take_ids() == [event["id"]]
