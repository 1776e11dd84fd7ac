"""functions/webhook_delivery: an SQS batch through the Powertools batch processor, over real
Postgres and a loopback receiver that verifies Scout-Signature. A poison message is the
batch's one failure (so SQS moves it to the dead-letter queue); the rest are delivered."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg.rows import dict_row

from scout import runtime
from scout.egress.policy import EgressPolicy
from scout.store.postgres import PostgresStore
from tests.integration.monitors.webhook_rows import SECRET, add_event, add_monitor, event_row
from tests.support.functions import load_function
from tests.support.http_server import Fault, LoopbackServer, run_in_thread
from tests.support.webhooks import RecordingWebhookQueue, SignatureCheckingReceiver
from tests.support.wiring import serving_environment

SAMPLE = json.loads((Path(__file__).parents[3] / "events" / "webhook_delivery_batch.json").read_text())
RECEIVER_HOST = "hooks.test"


class FakeLambdaContext:
    function_name = "WebhookDeliveryFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:WebhookDeliveryFunction"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 59_000


async def _loopback(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


@pytest.fixture
def receiver() -> Iterator[tuple[SignatureCheckingReceiver, LoopbackServer]]:
    checking = SignatureCheckingReceiver(SECRET, time.time)
    with run_in_thread(LoopbackServer(checking)) as server:
        yield checking, server


@pytest.fixture
def delivery_function(
    monkeypatch: pytest.MonkeyPatch, clean_database: str
) -> Iterator[tuple[ModuleType, RecordingWebhookQueue, PostgresStore]]:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("ALLOWED_HOSTS", "localhost")
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "2")
    monkeypatch.setenv("WEBHOOK_FIRST_RETRY_SECONDS", "2")
    store = PostgresStore(clean_database)
    queue = RecordingWebhookQueue()
    module = load_function("webhook_delivery")
    try:
        with serving_environment(
            store=store,
            webhook_queue=queue,
            egress_policy=EgressPolicy(allow=[RECEIVER_HOST], resolver=_loopback),
        ):
            yield module, queue, store
    finally:
        runtime.run(store.aclose())


def record(message_id: str, body: str) -> dict[str, Any]:
    message = copy.deepcopy(SAMPLE["Records"][0])
    message["messageId"], message["body"] = message_id, body
    return message


async def _two_events(dsn: str, webhook_url: str) -> list[UUID]:
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True, row_factory=dict_row) as db:
        monitor_id = await add_monitor(db, webhook_url)
        return [
            await add_event(db, monitor_id),
            await add_event(db, monitor_id, event_type="monitor.regression"),
        ]


async def _rows(dsn: str, event_ids: list[UUID]) -> list[dict[str, Any]]:
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True, row_factory=dict_row) as db:
        return [await event_row(db, event_id) for event_id in event_ids]


def test_a_poison_message_fails_alone_and_the_rest_of_the_batch_is_delivered(
    delivery_function: tuple[ModuleType, RecordingWebhookQueue, PostgresStore],
    receiver: tuple[SignatureCheckingReceiver, LoopbackServer],
    clean_database: str,
) -> None:
    module, queue, _ = delivery_function
    checking, server = receiver
    # Given two events of a monitor whose receiver verifies signatures
    event_ids = runtime.run(_two_events(clean_database, f"http://{RECEIVER_HOST}:{server.port}/hook"))
    # And a batch of them around a message that is not an event id
    batch = {
        "Records": [
            record("m-1", json.dumps({"event_id": str(event_ids[0])})),
            record("m-poison", "hello"),
            record("m-2", json.dumps({"event_id": str(event_ids[1])})),
        ]
    }
    # When the delivery function handles the batch
    answer = module.handler(batch, FakeLambdaContext())
    # Then only the poison message is reported failed (SQS redrives it to the DLQ)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-poison"}]}
    # And both events were delivered, signed, and nothing was re-queued
    assert sorted(json.loads(request.body)["type"] for request in checking.verified) == [
        "monitor.regression",
        "monitor.run.finished",
    ]
    assert checking.refused == []
    assert all(row["delivered_at"] is not None for row in runtime.run(_rows(clean_database, event_ids)))
    assert queue.take() == []


def test_the_sample_event_is_a_message_for_an_event_that_is_not_there(
    delivery_function: tuple[ModuleType, RecordingWebhookQueue, PostgresStore],
) -> None:
    module, queue, _ = delivery_function
    # When the sample event (`scout invoke WebhookDeliveryFunction`) is handled on an empty
    # database, Then its message is consumed (the event is missing: nothing to deliver)
    assert module.handler(SAMPLE, FakeLambdaContext()) == {"batchItemFailures": []}
    assert queue.take() == []


def test_a_failed_attempt_is_queued_again_after_the_configured_first_retry(
    delivery_function: tuple[ModuleType, RecordingWebhookQueue, PostgresStore],
    receiver: tuple[SignatureCheckingReceiver, LoopbackServer],
    clean_database: str,
) -> None:
    module, queue, _ = delivery_function
    _, server = receiver
    # Given an event whose receiver answers 503 once, and WEBHOOK_FIRST_RETRY_SECONDS=2
    server.inject(Fault(path="/hook", status=503))
    event_id, _ = runtime.run(_two_events(clean_database, f"http://{RECEIVER_HOST}:{server.port}/hook"))
    # When the delivery function handles its message
    answer = module.handler(
        {"Records": [record("m-1", json.dumps({"event_id": str(event_id)}))]}, FakeLambdaContext()
    )
    # Then the message was consumed and the event queued again within the short first retry
    assert answer == {"batchItemFailures": []}
    [again] = queue.take()
    assert again.event_id == event_id
    assert 1 <= again.delay_seconds <= 2
