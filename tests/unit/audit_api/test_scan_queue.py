"""Scan messages on the FIFO queue: grouped by target host, deduplicated by scan id (moto SQS)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import boto3
import pytest
from moto import mock_aws

from scout.audit.scan_queue import MAX_GROUP_ID_LENGTH, SqsScanQueue, message_group


@pytest.fixture
def fifo_queue(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(
            QueueName="scans.fifo",
            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"},
        )["QueueUrl"]
        yield sqs, url


def receive_all(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=0
    ).get("Messages", [])
    return messages


async def test_a_scan_is_sent_with_its_host_as_group_and_its_id_as_deduplication_id(
    fifo_queue: tuple[Any, str],
) -> None:
    # Given the scan FIFO queue
    sqs, url = fifo_queue
    scan_id = uuid4()
    # When a scan of example.com is sent
    await SqsScanQueue(url, client=sqs).send(scan_id, "example.com")
    # Then one message carries the scan id, grouped by host and deduplicated by id
    [message] = receive_all(sqs, url)
    assert json.loads(message["Body"]) == {"scan_id": str(scan_id)}
    assert message["Attributes"]["MessageGroupId"] == "example.com"
    assert message["Attributes"]["MessageDeduplicationId"] == str(scan_id)


async def test_sending_the_same_scan_twice_queues_it_once(fifo_queue: tuple[Any, str]) -> None:
    sqs, url = fifo_queue
    queue, scan_id = SqsScanQueue(url, client=sqs), uuid4()
    await queue.send(scan_id, "example.com")
    await queue.send(scan_id, "example.com")
    assert len(receive_all(sqs, url)) == 1


def test_a_host_longer_than_a_group_id_may_be_is_grouped_by_its_digest() -> None:
    long_host = ("a" * 60 + ".") * 4 + "example"
    group = message_group(long_host)
    assert len(group) <= MAX_GROUP_ID_LENGTH
    assert group == message_group(long_host.upper())
    assert group != message_group("b" + long_host[1:])


def test_hosts_differing_only_in_case_share_a_group() -> None:
    assert message_group("Example.COM") == message_group("example.com") == "example.com"
