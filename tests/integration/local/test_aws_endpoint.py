"""The local AWS endpoint holds the template's queues and buckets, with their properties."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from scout.local.aws_endpoint import LocalAwsEndpoint, aws_client, create_resources
from scout.local.environment import LocalNames, local_names
from scout.local.template import Template


@pytest.fixture
def names(fixture_template: Template) -> Iterator[LocalNames]:
    """Given the test template's resources on a fresh local endpoint."""
    with LocalAwsEndpoint() as endpoint:
        names = local_names(fixture_template, endpoint_url=endpoint.url)
        create_resources(fixture_template, names)
        yield names


def test_endpoint_listens_on_loopback_only(names: LocalNames) -> None:
    assert names.endpoint_url is not None
    assert names.endpoint_url.startswith("http://127.0.0.1:")


def test_fifo_queue_is_created_with_deduplication_visibility_and_redrive(names: LocalNames) -> None:
    assert names.endpoint_url is not None
    sqs = aws_client("sqs", names.endpoint_url, names.region)
    url = sqs.get_queue_url(QueueName="scout-local-orders-test.fifo")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["FifoQueue"] == "true"
    assert attributes["ContentBasedDeduplication"] == "true"
    assert attributes["VisibilityTimeout"] == "2"
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive == {"deadLetterTargetArn": names.queue_arn("OrderDeadLetterQueue"), "maxReceiveCount": 3}
    assert url == names.queue_url("OrderQueue")


def test_standard_queue_redrives_to_its_dead_letter_queue(names: LocalNames) -> None:
    assert names.endpoint_url is not None
    sqs = aws_client("sqs", names.endpoint_url, names.region)
    attributes = sqs.get_queue_attributes(QueueUrl=str(names.queue_url("WorkQueue")), AttributeNames=["All"])
    assert attributes["Attributes"]["VisibilityTimeout"] == "1"
    assert json.loads(attributes["Attributes"]["RedrivePolicy"])["maxReceiveCount"] == 2
    assert "FifoQueue" not in attributes["Attributes"]


def test_bucket_exists(names: LocalNames) -> None:
    assert names.endpoint_url is not None
    s3 = aws_client("s3", names.endpoint_url, names.region)
    s3.put_object(Bucket=names.bucket_names["ResultsBucket"], Key="k", Body=b"v")
    assert s3.get_object(Bucket="scout-local-resultsbucket", Key="k")["Body"].read() == b"v"
