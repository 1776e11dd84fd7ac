"""The scan queue: an SQS FIFO queue carrying one scan id per message.

The message group is the target host, so one site is never audited by two workers at once
while different sites run in parallel; the deduplication id is the scan id, so sending a
scan twice (a client retrying with its Idempotency-Key) within SQS's five-minute window puts
it on the queue once.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from scout.sqs import IdMessage, SqsClientSlot

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

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


SCAN_MESSAGE = IdMessage("scan_id", "scan message")


class SqsScanQueue:
    """Sends scan messages with boto3 (sync), on a worker thread so the event loop runs on."""

    def __init__(self, queue_url: str, client: SQSClient | None = None) -> None:
        self.queue_url = queue_url
        self._client = SqsClientSlot(client)

    async def send(self, scan_id: UUID, target_host: str) -> None:
        await asyncio.to_thread(
            (await self._client.get()).send_message,
            QueueUrl=self.queue_url,
            MessageBody=SCAN_MESSAGE.body(scan_id),
            MessageGroupId=message_group(target_host),
            MessageDeduplicationId=str(scan_id),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> SqsScanQueue:
        if not settings.scan_queue_url:
            raise RuntimeError("SCAN_QUEUE_URL is not set: the audit API cannot queue scans")
        return cls(settings.scan_queue_url)
