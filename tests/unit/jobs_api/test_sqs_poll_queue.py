"""The poll queue on SQS (moto): batches of ten, and what it did not take."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scout import runtime
from scout.errors import QueueUnavailable
from scout.jobs.poll_queue import PollRequest, SqsPollQueue, poll_queue
from scout.settings import Settings


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("sqs")


def requests(count: int) -> list[PollRequest]:
    return [PollRequest(source_id=uuid.uuid4(), ats="greenhouse", board=f"board{n}") for n in range(count)]


def received(client: Any, url: str) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    while batch := client.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        bodies += [json.loads(message["Body"]) for message in batch]
    return bodies


class CountingClient:
    """A real (moto) SQS client that counts SendMessageBatch calls and their sizes."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.batch_sizes: list[int] = []

    def send_message_batch(self, **request: Any) -> Any:
        self.batch_sizes.append(len(request["Entries"]))
        return self.client.send_message_batch(**request)


def test_requests_go_out_in_batches_of_ten_one_message_each(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="poll")["QueueUrl"]
    client = CountingClient(sqs)
    queue = SqsPollQueue(url, client=client)  # type: ignore[arg-type]
    sent = requests(23)
    refused = runtime.run(queue.send(sent))
    assert refused == []
    assert sorted(client.batch_sizes) == [3, 10, 10]
    bodies = received(sqs, url)
    assert sorted(body["board"] for body in bodies) == sorted(request.board for request in sent)
    assert set(bodies[0]) == {"source_id", "ats", "board"}


def test_a_queue_that_does_not_exist_takes_nothing(sqs: Any) -> None:
    queue = SqsPollQueue("https://sqs.us-east-1.amazonaws.com/123456789012/missing", client=sqs)
    sent = requests(12)
    assert runtime.run(queue.send(sent)) == sent


def test_the_poll_queue_needs_its_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POLL_QUEUE_URL", raising=False)
    with pytest.raises(QueueUnavailable, match="POLL_QUEUE_URL"):
        poll_queue(Settings(ALLOWED_HOSTS="localhost"))


def test_a_message_that_is_not_a_poll_request_is_refused_when_read() -> None:
    with pytest.raises(ValueError, match="source_id"):
        PollRequest.model_validate_json('{"ats": "greenhouse", "board": "acme"}')
