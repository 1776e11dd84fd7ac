"""Powertools' batch processing, run on the process's one loop (scout.batch)."""

from __future__ import annotations

import asyncio
from typing import Any

from aws_lambda_powertools.utilities.batch import EventType, async_process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from scout import runtime
from scout.batch import LoopBoundBatchProcessor


def sqs_batch(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"message-{position}",
                "receiptHandle": f"handle-{position}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:poll",
                "awsRegion": "us-east-1",
            }
            for position, body in enumerate(bodies)
        ]
    }


def test_every_invocation_runs_on_the_process_loop() -> None:
    # Given a processor made once, as a function module makes it
    processor = LoopBoundBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    loops: list[asyncio.AbstractEventLoop] = []

    async def record_handler(record: SQSRecord) -> str:
        loops.append(asyncio.get_running_loop())
        return record.body

    # When it handles three warm invocations
    for _ in range(3):
        async_process_partial_response(sqs_batch("a", "b"), record_handler, processor)
    # Then every record ran on the one loop scout.runtime keeps for the process
    assert set(loops) == {runtime.event_loop()}
    assert not runtime.event_loop().is_closed()


def test_records_of_a_batch_run_concurrently() -> None:
    processor = LoopBoundBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    arrived = 0
    all_arrived = asyncio.Event()

    async def record_handler(record: SQSRecord) -> None:
        # Each record waits for every other to have started: only concurrent handling finishes.
        nonlocal arrived
        arrived += 1
        if arrived == 3:
            all_arrived.set()
        await asyncio.wait_for(all_arrived.wait(), timeout=5)

    response = async_process_partial_response(sqs_batch("a", "b", "c"), record_handler, processor)
    assert response == {"batchItemFailures": []}


def test_a_record_that_raises_is_reported_and_the_others_are_not() -> None:
    processor = LoopBoundBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    async def record_handler(record: SQSRecord) -> None:
        if record.body == "bad":
            raise ValueError("unreadable")

    response = async_process_partial_response(sqs_batch("good", "bad", "good"), record_handler, processor)
    assert response == {"batchItemFailures": [{"itemIdentifier": "message-1"}]}


def test_a_batch_that_fails_entirely_is_reported_item_by_item() -> None:
    processor = LoopBoundBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    async def record_handler(record: SQSRecord) -> None:
        raise RuntimeError("store down")

    response = async_process_partial_response(sqs_batch("a", "b"), record_handler, processor)
    assert response == {
        "batchItemFailures": [{"itemIdentifier": "message-0"}, {"itemIdentifier": "message-1"}]
    }
