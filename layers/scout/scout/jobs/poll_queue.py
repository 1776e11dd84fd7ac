"""The poll queue: one SQS message per source to poll, carrying everything the worker needs.

A message names the source and its board, so the worker fetches the board and syncs the
result in one store call, without first asking the database what the source is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from scout.errors import QueueUnavailable
from scout.jobs.posting import AtsKind
from scout.observability import logger
from scout.settings import Settings
from scout.sqs import SqsClientSlot

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

# SendMessageBatch takes at most ten entries.
SQS_BATCH_LIMIT = 10


class PollRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    source_id: UUID
    ats: AtsKind
    board: str = Field(min_length=1, max_length=2048)
    # The running run the claim recorded (claim_due_polls, request_poll); the worker settles
    # it when it syncs. Absent in messages enqueued before runs were recorded at claim time.
    run_id: UUID | None = None
    # Kinds with detail pages: the digest of the stored list fingerprints (scout.jobs.details).
    list_digest: str | None = Field(default=None, max_length=64)


class PollQueue(Protocol):
    async def send(self, requests: Sequence[PollRequest]) -> list[PollRequest]:
        """Enqueue every request; return those the queue did not take."""
        ...


class SqsPollQueue:
    """The poll queue on SQS. boto3 blocks, so each SendMessageBatch runs in a worker thread."""

    def __init__(self, queue_url: str, client: SQSClient | None = None) -> None:
        self.queue_url = queue_url
        self._client = SqsClientSlot(client)

    async def send(self, requests: Sequence[PollRequest]) -> list[PollRequest]:
        client = await self._client.get()
        groups = [
            requests[start : start + SQS_BATCH_LIMIT] for start in range(0, len(requests), SQS_BATCH_LIMIT)
        ]
        refused = await asyncio.gather(
            *(asyncio.to_thread(self._send_group, client, group) for group in groups)
        )
        return [request for group in refused for request in group]

    def _send_group(self, client: SQSClient, group: Sequence[PollRequest]) -> list[PollRequest]:
        from botocore.exceptions import BotoCoreError, ClientError

        entries: list[SendMessageBatchRequestEntryTypeDef] = [
            {"Id": str(position), "MessageBody": request.model_dump_json(exclude_none=True)}
            for position, request in enumerate(group)
        ]
        try:
            answer = client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
        except (BotoCoreError, ClientError) as exc:
            logger.warning("the poll queue refused a batch", extra={"error": str(exc), "size": len(group)})
            return list(group)
        failed = {int(entry["Id"]): entry for entry in answer.get("Failed", [])}
        for entry in failed.values():
            logger.warning("the poll queue refused a message", extra={"code": entry.get("Code")})
        return [group[position] for position in sorted(failed)]


def poll_queue(settings: Settings) -> SqsPollQueue:
    """The poll queue ``POLL_QUEUE_URL`` names, its SQS client made on first use.

    Built once per process by :mod:`scout.deps`; QueueUnavailable (503) when unset.
    """
    if not settings.poll_queue_url:
        raise QueueUnavailable("the poll queue is not configured (POLL_QUEUE_URL)")
    return SqsPollQueue(settings.poll_queue_url)
