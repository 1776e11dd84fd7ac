"""Messages that name one id (the scan and webhook delivery queues), and the queues' SQS client."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from moto import mock_aws

from scout import runtime
from scout.audit.scan_queue import SCAN_MESSAGE
from scout.monitors.webhook_relay import DELIVERY_MESSAGE
from scout.sqs import IdMessage, SqsClientSlot

KNOWN_ID = UUID("0b6f3c1e-58a4-4d8e-9a34-2f1c6b0f7d21")


@pytest.mark.parametrize(
    ("message", "wire_body"),
    [
        (SCAN_MESSAGE, '{"scan_id": "0b6f3c1e-58a4-4d8e-9a34-2f1c6b0f7d21"}'),
        (DELIVERY_MESSAGE, '{"event_id": "0b6f3c1e-58a4-4d8e-9a34-2f1c6b0f7d21"}'),
    ],
)
def test_a_message_body_is_the_one_already_on_the_queues(message: IdMessage, wire_body: str) -> None:
    # Given a message kind and the body its queue has always carried
    # When an id is written, Then it is that body, byte for byte
    assert message.body(KNOWN_ID) == wire_body
    # And a body already queued parses back to its id
    assert message.id_of(wire_body) == KNOWN_ID


@pytest.mark.parametrize("message", [SCAN_MESSAGE, DELIVERY_MESSAGE])
def test_an_id_survives_the_round_trip(message: IdMessage) -> None:
    sent = uuid4()
    assert message.id_of(message.body(sent)) == sent


@pytest.mark.parametrize(
    ("message", "named"), [(SCAN_MESSAGE, "not a scan message"), (DELIVERY_MESSAGE, "not a webhook delivery")]
)
@pytest.mark.parametrize(
    "body", ["", "[]", "null", '{"scan": "x"}', '{"scan_id": "not-a-uuid"}', '{"event_id": 7}', "scan 1"]
)
def test_a_body_scout_never_sends_is_a_value_error_naming_the_message_kind(
    message: IdMessage, named: str, body: str
) -> None:
    with pytest.raises(ValueError, match=named):
        message.id_of(body)


def test_the_other_queues_message_is_not_mistaken_for_this_ones() -> None:
    with pytest.raises(ValueError, match="not a scan message"):
        SCAN_MESSAGE.id_of(DELIVERY_MESSAGE.body(uuid4()))


def test_a_malformed_body_is_quoted_only_in_part() -> None:
    with pytest.raises(ValueError, match="not a scan message") as raised:
        SCAN_MESSAGE.id_of("x" * 5000)
    assert len(str(raised.value)) < 300


@pytest.fixture
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # moto supplies the credentials; the region and endpoint are the environment's.
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


def test_a_slot_makes_one_client_however_many_sends_ask_at_once(aws_environment: None) -> None:
    # Given a queue's slot with no client yet
    slot = SqsClientSlot()

    async def ask_together() -> list[Any]:
        return list(await asyncio.gather(*(slot.get() for _ in range(8))))

    # When eight sends ask for it at once, Then they all get the same, working client
    clients = runtime.run(ask_together())
    assert all(client is clients[0] for client in clients)
    url = clients[0].create_queue(QueueName="slot")["QueueUrl"]
    clients[0].send_message(QueueUrl=url, MessageBody=SCAN_MESSAGE.body(KNOWN_ID))
    [message] = clients[0].receive_message(QueueUrl=url)["Messages"]
    assert SCAN_MESSAGE.id_of(message["Body"]) == KNOWN_ID


def test_a_slot_keeps_the_client_it_was_given() -> None:
    given = object()
    assert runtime.run(SqsClientSlot(given).get()) is given  # type: ignore[arg-type]
