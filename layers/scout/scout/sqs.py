"""What scout's SQS queues share: their client, and messages that name one id.

boto3 is imported only when a queue first sends, so a function that never queues never pays
for it, and the client is made on a worker thread, so the event loop runs on meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import TYPE_CHECKING
from uuid import UUID

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# boto3's default session is not safe to build clients from in two threads at once.
_client_made = threading.Lock()


def new_sqs_client() -> SQSClient:
    """An SQS client (region, credentials and AWS_ENDPOINT_URL from the environment)."""
    import boto3

    with _client_made:
        return boto3.client("sqs")


class SqsClientSlot:
    """A queue's SQS client: the one passed in (tests), or one made on first use and kept.

    One per queue, and scout.deps builds each queue once per process.
    """

    def __init__(self, client: SQSClient | None = None) -> None:
        self._client = client
        self._made = threading.Lock()

    async def get(self) -> SQSClient:
        client = self._client
        if client is None:
            client = await asyncio.to_thread(self._make)
        return client

    def _make(self) -> SQSClient:
        with self._made:
            if self._client is None:
                self._client = new_sqs_client()
            return self._client


class IdMessage:
    """A queue message whose body names one id: ``{"<key>": "<uuid>"}``."""

    def __init__(self, key: str, kind: str) -> None:
        self.key = key
        self.kind = kind

    def body(self, value: UUID) -> str:
        return json.dumps({self.key: str(value)})

    def id_of(self, body: str) -> UUID:
        """The id a message carries; ``ValueError`` for a body scout never sends."""
        try:
            data = json.loads(body)
            return UUID(str(data[self.key]))
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"not a {self.kind}: {body[:200]!r}") from exc
