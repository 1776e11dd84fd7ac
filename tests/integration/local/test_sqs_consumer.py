"""Queue consumers against the local endpoint: batches, partial failures, FIFO order, DLQ."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from scout.local.aws_endpoint import LocalAwsEndpoint, aws_client, create_resources
from scout.local.environment import LocalNames, local_names
from scout.local.execution import Invocation
from scout.local.sqs_consumer import SqsConsumer
from scout.local.template import SqsSource, Template
from tests.support.local_stack import eventually


@pytest.fixture
def names(fixture_template: Template) -> Iterator[LocalNames]:
    with LocalAwsEndpoint() as endpoint:
        names = local_names(fixture_template, endpoint_url=endpoint.url)
        create_resources(fixture_template, names)
        yield names


class RecordingFunction:
    """Stands for a function: records each batch, fails the bodies it is told to."""

    def __init__(self, failing: set[str] | None = None, raise_error: bool = False) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.failing = failing or set()
        self.raise_error = raise_error

    def __call__(self, event: dict[str, Any]) -> Invocation:
        records = event["Records"]
        self.batches.append(records)
        if self.raise_error:
            return Invocation("r", error={"errorType": "ValueError", "errorMessage": "down"})
        failures = [{"itemIdentifier": r["messageId"]} for r in records if r["body"] in self.failing]
        return Invocation("r", payload={"batchItemFailures": failures})

    def bodies(self) -> list[list[str]]:
        return [[record["body"] for record in batch] for batch in self.batches]


def consumer_for(
    template: Template, names: LocalNames, function_id: str, function: RecordingFunction
) -> SqsConsumer:
    source = next(source for source in template.sqs_sources if source.function_id == function_id)
    return SqsConsumer(source, template.queues[source.queue_id], names, function)


def send(names: LocalNames, queue_id: str, *bodies: str, group: str | None = None) -> None:
    assert names.endpoint_url is not None
    sqs = aws_client("sqs", names.endpoint_url, names.region)
    for body in bodies:
        extra = {"MessageGroupId": group} if group else {}
        sqs.send_message(QueueUrl=str(names.queue_url(queue_id)), MessageBody=body, **extra)


def queue_counts(names: LocalNames, queue_id: str) -> tuple[int, int]:
    assert names.endpoint_url is not None
    sqs = aws_client("sqs", names.endpoint_url, names.region)
    attributes = sqs.get_queue_attributes(
        QueueUrl=str(names.queue_url(queue_id)),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_only_reported_failures_go_back_to_the_queue(fixture_template: Template, names: LocalNames) -> None:
    # Given three messages, one of which the function reports as failed
    send(names, "WorkQueue", "a", "b", "c")
    function = RecordingFunction(failing={"b"})
    consumer = consumer_for(fixture_template, names, "WorkConsumerFunction", function)
    # When one batch is consumed
    handled = consumer.poll_once()
    # Then the two successes are deleted and only the failure stays (in flight)
    assert handled == 3
    assert (consumer.deleted, consumer.returned) == (2, 1)
    assert queue_counts(names, "WorkQueue") == (0, 1)


def test_a_function_error_returns_the_whole_batch(fixture_template: Template, names: LocalNames) -> None:
    send(names, "WorkQueue", "a", "b")
    consumer = consumer_for(
        fixture_template, names, "WorkConsumerFunction", RecordingFunction(raise_error=True)
    )
    consumer.poll_once()
    assert (consumer.deleted, consumer.returned) == (0, 2)
    assert queue_counts(names, "WorkQueue") == (0, 2)


def test_batches_are_no_larger_than_the_batch_size(fixture_template: Template, names: LocalNames) -> None:
    send(names, "WorkQueue", *[f"m{number}" for number in range(7)])
    function = RecordingFunction()
    consumer = consumer_for(fixture_template, names, "WorkConsumerFunction", function)
    while consumer.poll_once(wait_seconds=0):
        pass
    assert all(len(batch) <= 5 for batch in function.batches)
    assert sorted(body for batch in function.bodies() for body in batch) == [
        f"m{number}" for number in range(7)
    ]


def test_batching_window_gathers_more_than_one_receive(fixture_template: Template, names: LocalNames) -> None:
    # Given a source of batch 15 with a one-second window, and fifteen waiting messages
    send(names, "WorkQueue", *[f"m{number}" for number in range(15)])
    source = SqsSource("Fn", "Work", "WorkQueue", 15, 1, True, True)
    function = RecordingFunction()
    consumer = SqsConsumer(source, fixture_template.queues["WorkQueue"], names, function)
    # When one batch is consumed
    consumer.poll_once()
    # Then it holds more than one receive's worth (SQS returns at most 10)
    assert len(function.batches[0]) > 10


def test_a_poison_message_lands_in_the_dlq_after_max_receive_count(
    fixture_template: Template, names: LocalNames
) -> None:
    # Given a message the function always fails (WorkQueue: visibility 1 s, maxReceiveCount 2)
    send(names, "WorkQueue", json.dumps({"id": "p", "body": "poison"}))
    function = RecordingFunction(failing={json.dumps({"id": "p", "body": "poison"})})
    consumer = consumer_for(fixture_template, names, "WorkConsumerFunction", function)
    # When the consumer keeps polling
    eventually(lambda: consumer.poll_once() == 0 and queue_counts(names, "WorkDeadLetterQueue")[0] == 1, 20)
    # Then the function saw it exactly maxReceiveCount times, and it now waits in the DLQ
    assert len(function.batches) == 2
    assert [batch[0]["attributes"]["ApproximateReceiveCount"] for batch in function.batches] == ["1", "2"]
    assert queue_counts(names, "WorkQueue") == (0, 0)


def test_fifo_group_is_held_back_while_its_failed_message_is_in_flight(
    fixture_template: Template, names: LocalNames
) -> None:
    # Given group g1 (first, second) and group g2 (other), where "first" fails
    send(names, "OrderQueue", "first", "second", group="g1")
    send(names, "OrderQueue", "other", group="g2")
    function = RecordingFunction(failing={"first", "second"})
    consumer = consumer_for(fixture_template, names, "OrderConsumerFunction", function)
    # When the first batch fails g1's messages and succeeds g2's
    consumer.poll_once(wait_seconds=0)
    assert function.bodies() == [["first", "second", "other"]]
    # Then nothing of g1 is delivered while it is in flight...
    assert consumer.poll_once(wait_seconds=0) == 0
    # ...and once visible again, g1 comes back in its original order
    function.failing = set()
    eventually(lambda: consumer.poll_once(wait_seconds=1) > 0, 10)
    assert function.bodies()[-1] == ["first", "second"]
    fifo_attributes = function.batches[-1][0]["attributes"]
    assert fifo_attributes["MessageGroupId"] == "g1"
    assert "MessageDeduplicationId" in fifo_attributes


def test_stopping_lets_the_running_batch_finish(fixture_template: Template, names: LocalNames) -> None:
    send(names, "WorkQueue", "a")
    function = RecordingFunction()
    consumer = consumer_for(fixture_template, names, "WorkConsumerFunction", function)
    consumer.start()
    eventually(lambda: consumer.deleted == 1, 10)
    consumer.stop(drain_seconds=5)
    send(names, "WorkQueue", "b")
    assert queue_counts(names, "WorkQueue") == (1, 0)
    assert function.bodies() == [["a"]]
