"""The local AWS endpoint: moto's server on a free loopback port, holding every queue and bucket
template.yaml declares, created with the template's properties.

Dead-letter queues are created before the queues that redrive to them, and a queue's redrive
policy names its DLQ by ARN, as CloudFormation would; moto then moves a message to the DLQ on
the receive after its ``maxReceiveCount``-th, like SQS.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import boto3
import httpx
from botocore.config import Config

from scout.local.environment import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY, LocalNames
from scout.local.template import QueueSpec, Template

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

LOOPBACK = "127.0.0.1"


class LocalAwsEndpoint:
    """moto in server mode, in this process, on ``127.0.0.1`` and a port the OS picks."""

    def __init__(self) -> None:
        self._server: ThreadedMotoServer | None = None
        self.url: str | None = None

    def start(self) -> str:
        from moto.server import ThreadedMotoServer  # a heavy import, needed only here

        _redeliver_fifo_groups_in_order()
        # Werkzeug logs every request at INFO; the local stack's console is for the functions.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = ThreadedMotoServer(ip_address=LOOPBACK, port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self._server = server
        self.url = f"http://{host}:{port}"
        # moto keeps its state per process, not per server: a new endpoint starts empty.
        httpx.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()
        return self.url

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def __enter__(self) -> LocalAwsEndpoint:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _redeliver_fifo_groups_in_order() -> None:
    """Make moto hand back a FIFO group's returned messages in order, as SQS does.

    moto (5.x) keeps a message whose visibility timeout expired in its "pending" set until a
    receive walks past it, and a pending message locks its group: when two failed messages of a
    group become visible together, the first is skipped and the second delivered alone. SQS
    delivers them in order. Forgetting expired in-flight messages before each receive restores
    that; with a moto that has no such internals this does nothing.
    """
    from moto.sqs.models import SQSBackend

    original = SQSBackend.receive_message
    if getattr(original, "_scout_fifo_order", False):
        return

    def receive_message(self: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        queue = self.get_queue(queue_name)
        pending = getattr(queue, "_pending_messages", None)
        if isinstance(pending, set):
            pending.difference_update([message for message in pending if message.visible])
        return original(self, queue_name, *args, **kwargs)

    receive_message._scout_fifo_order = True  # type: ignore[attr-defined]
    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]


def aws_client(service: str, endpoint_url: str, region: str) -> Any:
    """A boto3 client for the local endpoint with placeholder credentials."""
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=LOCAL_ACCESS_KEY,
        aws_secret_access_key=LOCAL_SECRET_KEY,
        config=Config(retries={"max_attempts": 2, "mode": "standard"}),
    )


def create_resources(template: Template, names: LocalNames) -> None:
    """Create the template's queues (DLQs first) and buckets on the local endpoint."""
    assert names.endpoint_url is not None
    sqs = aws_client("sqs", names.endpoint_url, names.region)
    for queue in _dead_letter_queues_first(template):
        sqs.create_queue(
            QueueName=names.queue_names[queue.logical_id], Attributes=queue_attributes(queue, names)
        )
    s3 = aws_client("s3", names.endpoint_url, names.region)
    for bucket_id in template.buckets:
        arguments: dict[str, Any] = {"Bucket": names.bucket_names[bucket_id]}
        if names.region != "us-east-1":
            arguments["CreateBucketConfiguration"] = {"LocationConstraint": names.region}
        s3.create_bucket(**arguments)


def queue_attributes(queue: QueueSpec, names: LocalNames) -> dict[str, str]:
    attributes = {"VisibilityTimeout": str(queue.visibility_timeout)}
    if queue.fifo:
        attributes["FifoQueue"] = "true"
        attributes["ContentBasedDeduplication"] = "true" if queue.content_based_deduplication else "false"
    optional = {
        "DelaySeconds": queue.delay_seconds,
        "MessageRetentionPeriod": queue.message_retention_seconds,
        "ReceiveMessageWaitTimeSeconds": queue.receive_wait_seconds,
    }
    attributes.update({name: str(value) for name, value in optional.items() if value is not None})
    if queue.redrive is not None:
        attributes["RedrivePolicy"] = json.dumps(
            {
                "deadLetterTargetArn": names.queue_arn(queue.redrive.dead_letter_queue_id),
                "maxReceiveCount": queue.redrive.max_receive_count,
            }
        )
    return attributes


def _dead_letter_queues_first(template: Template) -> list[QueueSpec]:
    ordered: list[QueueSpec] = []
    visiting: set[str] = set()

    def visit(queue: QueueSpec) -> None:
        if queue in ordered or queue.logical_id in visiting:
            return
        visiting.add(queue.logical_id)
        if queue.redrive is not None and queue.redrive.dead_letter_queue_id in template.queues:
            visit(template.queues[queue.redrive.dead_letter_queue_id])
        ordered.append(queue)

    for queue in template.queues.values():
        visit(queue)
    return ordered
