"""The scan queue: an SQS FIFO queue carrying one scan id per message.

The message group is the target host, so one site is never audited by two workers at once
while different sites run in parallel; the deduplication id is the scan id, so sending a
scan twice (a client retrying with its Idempotency-Key) within SQS's five-minute window puts
it on the queue once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

if TYPE_CHECKING:
    from scout.settings import Settings

# SQS: MessageGroupId is 1-128 characters; a DNS name may be 253.
MAX_GROUP_ID_LENGTH = 128


class ScanQueue(Protocol):
    async def send(self, scan_id: UUID, target_host: str) -> None: ...


def message_group(target_host: str) -> str:
    """The FIFO message group of a host: the host itself, or its digest when too long."""
    host = target_host.lower()
    if len(host) <= MAX_GROUP_ID_LENGTH:
        return host
    return "sha256:" + hashlib.sha256(host.encode()).hexdigest()


def message_body(scan_id: UUID) -> str:
    return json.dumps({"scan_id": str(scan_id)})


def scan_id_of(body: str) -> UUID:
    """The scan id a message carries; ``ValueError`` for a body scout never sends."""
    try:
        data = json.loads(body)
        return UUID(str(data["scan_id"]))
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"not a scan message: {body[:200]!r}") from exc


class SqsScanQueue:
    """Sends scan messages with boto3 (sync), on a worker thread so the event loop runs on."""

    def __init__(self, queue_url: str, client: Any = None) -> None:
        self.queue_url = queue_url
        self._client = client if client is not None else new_sqs_client()

    async def send(self, scan_id: UUID, target_host: str) -> None:
        await asyncio.to_thread(
            self._client.send_message,
            QueueUrl=self.queue_url,
            MessageBody=message_body(scan_id),
            MessageGroupId=message_group(target_host),
            MessageDeduplicationId=str(scan_id),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> SqsScanQueue:
        if not settings.scan_queue_url:
            raise RuntimeError("SCAN_QUEUE_URL is not set: the audit API cannot queue scans")
        return cls(settings.scan_queue_url)


def new_sqs_client() -> Any:
    """An SQS client (region, credentials and AWS_ENDPOINT_URL from the environment).

    One per queue, and scout.deps builds the queue once per process.
    """
    import boto3

    return boto3.client("sqs")
