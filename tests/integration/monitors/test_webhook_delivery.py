"""Delivering webhook events: real Postgres, a loopback receiver that verifies Scout-Signature,
the egress guard in front of it, a recording delivery queue (tests/support/webhooks.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from scout.egress.policy import EgressPolicy
from scout.monitors.deliveries import GIVE_UP_AFTER, WebhookSender, deliver_event
from scout.store.postgres import PostgresStore
from tests.integration.monitors.webhook_rows import SECRET, add_event, add_monitor, deliveries_of, event_row
from tests.support.http_server import Fault, LoopbackServer
from tests.support.webhooks import RecordingWebhookQueue, SignatureCheckingReceiver

Db = psycopg.AsyncConnection[dict[str, Any]]
# The receiver's name, allowed by name and resolved to loopback: every other loopback or
# private address stays refused, as in production.
RECEIVER_HOST = "hooks.test"


async def _loopback(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


def receiver_policy() -> EgressPolicy:
    return EgressPolicy(allow=[RECEIVER_HOST], resolver=_loopback)


@pytest.fixture
async def sender() -> AsyncIterator[WebhookSender]:
    sending = WebhookSender.guarded(receiver_policy(), timeout_seconds=2.0)
    try:
        yield sending
    finally:
        await sending.aclose()


@pytest.fixture
def queue() -> RecordingWebhookQueue:
    return RecordingWebhookQueue()


def receiver_at(clock: list[float]) -> SignatureCheckingReceiver:
    """A receiver verifying signatures at the latest time in ``clock``."""
    return SignatureCheckingReceiver(SECRET, lambda: clock[-1])


def hook_url(server: LoopbackServer) -> str:
    return f"http://{RECEIVER_HOST}:{server.port}/hook"


async def test_a_receiver_down_for_the_first_attempts_gets_the_event_later(
    db: Db, postgres_store: PostgresStore, sender: WebhookSender, queue: RecordingWebhookQueue
) -> None:
    # Given a receiver whose port refuses connections at first, then answers 503 once
    clock = [datetime.now(UTC).timestamp()]
    receiver = receiver_at(clock)
    server = LoopbackServer(receiver)
    await server.start()
    port = server.port
    await server.stop()
    monitor_id = await add_monitor(db, hook_url(server))
    event_id = await add_event(db, monitor_id)
    at = datetime.fromtimestamp(clock[-1], UTC)

    # When the first attempt finds nobody listening
    first = await deliver_event(event_id, store=postgres_store, sender=sender, queue=queue, now=at)
    # Then it is a retry, due later, and the message is back on the queue
    assert first.outcome == "retry"
    assert first.next_attempt_at is not None
    assert queue.take_ids() == [event_id]

    # When the message comes back before the retry is due
    early = await deliver_event(event_id, store=postgres_store, sender=sender, queue=queue, now=at)
    # Then nothing is sent; the message goes back with the time still to wait
    assert early.outcome == "not_due"
    assert queue.take_ids() == [event_id]

    async with LoopbackServer(receiver, port=port) as revived:
        revived.inject(Fault(path="/hook", status=503))
        # When the second attempt (when due) gets a 503, and the third a 200
        at = first.next_attempt_at
        clock.append(at.timestamp())
        second = await deliver_event(event_id, store=postgres_store, sender=sender, queue=queue, now=at)
        assert second.outcome == "retry"
        assert second.next_attempt_at is not None
        at = second.next_attempt_at
        clock.append(at.timestamp())
        third = await deliver_event(event_id, store=postgres_store, sender=sender, queue=queue, now=at)

    # Then the event is delivered once, its signature verified with a fresh timestamp, the
    # same body and event id as the attempt before it
    assert third.outcome == "delivered"
    assert third.attempt == 3
    [delivered] = receiver.verified
    assert receiver.refused == []
    assert json.loads(delivered.body)["type"] == "monitor.run.finished"
    assert delivered.headers["scout-event-id"] == str(event_id)
    assert delivered.headers["content-type"] == "application/json"
    stamps = [request.headers["scout-signature"].split(",")[0] for request in revived.stats.requests]
    assert len(set(stamps)) == 2
    assert revived.stats.requests[0].body == delivered.body
    # And every attempt is recorded
    attempts = await deliveries_of(db, event_id)
    assert [(a["attempt"], a["outcome"], a["status_code"]) for a in attempts] == [
        (1, "retry", None),
        (2, "retry", 503),
        (3, "delivered", 200),
    ]
    assert attempts[0]["error"]["code"] == "connection_failed"
    assert (await event_row(db, event_id))["delivered_at"] is not None
    # And a duplicate message afterwards sends nothing
    again = await deliver_event(event_id, store=postgres_store, sender=sender, queue=queue)
    assert again.outcome == "skipped"
    assert again.reason == "delivered"


async def test_a_receiver_answering_410_disables_the_monitors_webhook(
    db: Db, postgres_store: PostgresStore, sender: WebhookSender, queue: RecordingWebhookQueue
) -> None:
    # Given a receiver that answers 410 Gone, and two events of its monitor
    async with LoopbackServer(receiver_at([datetime.now(UTC).timestamp()])) as server:
        server.inject(Fault(path="/hook", status=410))
        monitor_id = await add_monitor(db, hook_url(server))
        first = await add_event(db, monitor_id)
        second = await add_event(db, monitor_id, event_type="monitor.regression")
        # When the first is delivered
        done = await deliver_event(first, store=postgres_store, sender=sender, queue=queue)
        # Then the event is disabled, the monitor's webhook too, and nothing is re-queued
        assert done.outcome == "disabled"
        monitor = await (
            await db.execute("select * from public.monitors where id = %s", (monitor_id,))
        ).fetchone()
        assert monitor is not None
        assert monitor["webhook_disabled_at"] is not None
        assert "410" in monitor["webhook_disabled_reason"]
        assert (await event_row(db, first))["abandoned_at"] is not None
        assert queue.take_ids() == []
        # And the monitor's next event is not sent at all
        later = await deliver_event(second, store=postgres_store, sender=sender, queue=queue)
        assert later.outcome == "skipped"
        assert later.reason == "disabled"
        assert len(server.stats.requests) == 1


async def test_a_redirect_is_a_failed_attempt_and_is_not_followed(
    db: Db, postgres_store: PostgresStore, sender: WebhookSender, queue: RecordingWebhookQueue
) -> None:
    # Given a receiver that redirects to a private address, and a server listening there
    async with (
        LoopbackServer(receiver_at([datetime.now(UTC).timestamp()])) as private,
        LoopbackServer(receiver_at([datetime.now(UTC).timestamp()])) as server,
    ):
        server.inject(Fault(path="/hook", status=307, headers={"Location": f"{private.url}/steal"}))
        monitor_id = await add_monitor(db, hook_url(server))
        event_id = await add_event(db, monitor_id)
        # When the event is delivered
        done = await deliver_event(event_id, store=postgres_store, sender=sender, queue=queue)
        # Then the redirect is recorded as a failed attempt, and the private address never reached
        assert done.outcome == "retry"
        [attempt] = await deliveries_of(db, event_id)
        assert attempt["status_code"] == 307
        assert attempt["error"]["code"] == "redirect_refused"
        assert private.stats.requests == []


async def test_a_webhook_url_at_a_private_address_is_refused(
    db: Db, postgres_store: PostgresStore, sender: WebhookSender, queue: RecordingWebhookQueue
) -> None:
    # Given a webhook URL naming loopback directly (not the allowed receiver name)
    async with LoopbackServer(receiver_at([datetime.now(UTC).timestamp()])) as private:
        monitor_id = await add_monitor(db, f"{private.url}/hook")
        event_id = await add_event(db, monitor_id)
        # When it is delivered, Then the guard refuses it and nothing reaches the server
        done = await deliver_event(event_id, store=postgres_store, sender=sender, queue=queue)
        assert done.outcome == "retry"
        [attempt] = await deliveries_of(db, event_id)
        assert attempt["error"]["code"] == "blocked_target"
        assert attempt["status_code"] is None
        assert private.stats.requests == []


async def test_a_receiver_that_hangs_is_cut_at_the_timeout(
    db: Db, postgres_store: PostgresStore, queue: RecordingWebhookQueue
) -> None:
    # Given a receiver that stalls 5 s, and a sender allowed 0.5 s
    impatient = WebhookSender.guarded(receiver_policy(), timeout_seconds=0.5)
    try:
        async with LoopbackServer(receiver_at([datetime.now(UTC).timestamp()])) as server:
            server.inject(Fault(path="/hook", kind="stall", seconds=5.0))
            monitor_id = await add_monitor(db, hook_url(server))
            event_id = await add_event(db, monitor_id)
            # When it is delivered
            done = await deliver_event(event_id, store=postgres_store, sender=impatient, queue=queue)
    finally:
        await impatient.aclose()
    # Then the attempt ended at the limit as a timeout, to be retried
    assert done.outcome == "retry"
    [attempt] = await deliveries_of(db, event_id)
    assert attempt["error"]["code"] == "timeout"
    assert 400 <= attempt["duration_ms"] < 3000


async def test_retries_stop_24_hours_after_the_event_was_written(
    db: Db, postgres_store: PostgresStore, sender: WebhookSender, queue: RecordingWebhookQueue
) -> None:
    # Given a receiver that always answers 503, and an event written at a known time
    async with LoopbackServer(receiver_at([0.0])) as server:
        server.inject(Fault(path="/hook", status=503, times=1000))
        monitor_id = await add_monitor(db, hook_url(server))
        written = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
        event_id = await add_event(db, monitor_id, created_at=written)
        # When every attempt is made the moment it is due (an injected clock)
        at, outcomes = written, []
        for _ in range(60):
            done = await deliver_event(event_id, store=postgres_store, sender=sender, queue=queue, now=at)
            outcomes.append(done.outcome)
            if done.next_attempt_at is None:
                break
            assert done.next_attempt_at <= written + GIVE_UP_AFTER
            at = done.next_attempt_at
    # Then it is retried until the 24-hour mark, and abandoned on the attempt made there
    assert outcomes[-1] == "abandoned"
    assert set(outcomes[:-1]) == {"retry"}
    assert at == written + GIVE_UP_AFTER
    row = await event_row(db, event_id)
    assert row["abandoned_at"] == written + GIVE_UP_AFTER
    assert len(await deliveries_of(db, event_id)) == len(outcomes) == len(server.stats.requests)
    # And a message arriving afterwards sends nothing
    late = await deliver_event(
        event_id, store=postgres_store, sender=sender, queue=queue, now=at + timedelta(hours=1)
    )
    assert late.outcome == "skipped"
    assert late.reason == "abandoned"
