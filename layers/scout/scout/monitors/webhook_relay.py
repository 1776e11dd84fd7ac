"""The outbox relay: webhook events written with a run's last scan, put on the delivery queue.

The monitors' scan worker writes ``webhook_events`` rows in the transaction that closes a
run (the outbox), so an event exists exactly when its run finished. :func:`relay_outbox`
then moves them to SQS. A store call is its own transaction, so the claim cannot stay locked
while the queue is called; instead the claim marks the rows enqueued under ``for update skip
locked`` (two relays at once take disjoint rows), the relay sends each id, and the ids the
queue refused go back to the outbox. A relay that dies between claim and send leaves rows
marked but unsent: the next claim takes back any event enqueued (or due) more than
``RELAY_LEASE_SECONDS`` ago that no delivery attempt has taken since, so no event is lost;
a duplicate message that may cause is harmless (``begin_webhook_delivery`` decides).
"""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from scout.monitors.webhook_store import WebhookStore
from scout.observability import logger

if TYPE_CHECKING:
    from scout.settings import Settings
    from scout.store.protocol import Store

# SQS DelaySeconds is 0-900.
MAX_QUEUE_DELAY_SECONDS = 900
# Longer than a delivery queue message can wait unseen (the queue's longest delay and the
# worker's visibility timeout), so a taken-back event's first message is surely gone.
RELAY_LEASE_SECONDS = 1800


class WebhookQueue(Protocol):
    async def send(self, event_id: UUID, delay_seconds: int = 0) -> None: ...


def message_body(event_id: UUID) -> str:
    return json.dumps({"event_id": str(event_id)})


def event_id_of(body: str) -> UUID:
    """The event id a delivery message carries; ``ValueError`` for a body scout never sends."""
    try:
        data = json.loads(body)
        return UUID(str(data["event_id"]))
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"not a webhook delivery message: {body[:200]!r}") from exc


class SqsWebhookQueue:
    """The delivery queue (standard SQS); boto3 blocks, so each send runs on a worker thread."""

    def __init__(self, queue_url: str, client: Any = None) -> None:
        self.queue_url = queue_url
        self._client = client
        self._client_made = threading.Lock()

    def client(self) -> Any:
        # boto3's default session is not safe to build clients from in two threads at once.
        with self._client_made:
            if self._client is None:
                import boto3  # only the functions that relay or deliver pay for boto3

                self._client = boto3.client("sqs")
            return self._client

    async def send(self, event_id: UUID, delay_seconds: int = 0) -> None:
        client = await asyncio.to_thread(self.client)
        await asyncio.to_thread(
            client.send_message,
            QueueUrl=self.queue_url,
            MessageBody=message_body(event_id),
            DelaySeconds=max(0, min(int(delay_seconds), MAX_QUEUE_DELAY_SECONDS)),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> SqsWebhookQueue:
        if not settings.webhook_queue_url:
            raise RuntimeError("WEBHOOK_QUEUE_URL is not set: webhook events cannot be queued")
        return cls(settings.webhook_queue_url)


async def relay_outbox(
    store: Store, queue: WebhookQueue, *, limit: int = 100, now: datetime | None = None
) -> int:
    """Put up to ``limit`` outbox events on ``queue``; how many it took.

    Never raises for the queue: an event it refused stays in the outbox for the next relay
    (the run that wrote it is already closed, and must stay closed). The store failing raises.
    """
    webhooks = WebhookStore(store)
    event_ids = await webhooks.claim_outbox_events(limit, RELAY_LEASE_SECONDS, now or datetime.now(UTC))
    if not event_ids:
        return 0
    sent = await asyncio.gather(*(queue.send(event_id) for event_id in event_ids), return_exceptions=True)
    failures = [
        (event_id, result) for event_id, result in zip(event_ids, sent, strict=True) if result is not None
    ]
    for _, failure in failures:
        if not isinstance(failure, Exception):
            raise failure  # cancelled: not the queue's answer
    refused = [event_id for event_id, _ in failures]
    if refused:
        logger.warning(
            "the webhook queue refused events; they stay in the outbox",
            extra={"refused": len(refused), "error": str(failures[0][1])},
        )
        await webhooks.return_outbox_events(refused)
    return len(event_ids) - len(refused)


async def relay_outbox_logged(store: Store, queue: WebhookQueue, *, after: str) -> int:
    """:func:`relay_outbox` for callers whose own work is done and must stay done (a scan
    finished, a scheduler tick): any failure is logged, and the events wait in the outbox
    for the next relay (the monitor scheduler relays on every tick)."""
    try:
        return await relay_outbox(store, queue)
    except Exception:
        logger.exception(
            "relaying the webhook outbox failed; the next relay takes its events", extra={"after": after}
        )
        return 0
