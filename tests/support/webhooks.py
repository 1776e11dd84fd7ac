"""Webhook test parts: a delivery queue that records what was sent (with its delay) and
lets the test hand the messages to the worker, and a loopback receiver that verifies
Scout-Signature as a user's receiver would.

The recording queue stands in for SQS in tests of the relay and the worker because moto
holds back a message sent with DelaySeconds for that long; the SQS queue itself is tested
on moto with delay 0 (tests/integration/monitors/test_webhook_relay.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

from scout.monitors.signing import SignatureMismatch, verify_signature
from tests.support.http_server import Request, Response


@dataclass(frozen=True)
class QueuedEvent:
    event_id: UUID
    delay_seconds: int


@dataclass
class RecordingWebhookQueue:
    """A :class:`scout.monitors.webhook_relay.WebhookQueue` that keeps every message sent."""

    sent: list[QueuedEvent] = field(default_factory=list)
    refuse: Callable[[UUID], bool] = lambda event_id: False

    async def send(self, event_id: UUID, delay_seconds: int = 0) -> None:
        if self.refuse(event_id):
            raise ConnectionError(f"the queue refused {event_id}")
        self.sent.append(QueuedEvent(event_id, delay_seconds))

    def take(self) -> list[QueuedEvent]:
        """The messages waiting, in the order sent, taken off the queue (delays not waited)."""
        taken, self.sent = self.sent, []
        return taken

    def take_ids(self) -> list[UUID]:
        return [message.event_id for message in self.take()]


@dataclass
class SignatureCheckingReceiver:
    """Answers 200 to a request whose Scout-Signature verifies with ``secret`` at the time
    ``clock()`` gives, 401 otherwise; keeps both."""

    secret: str
    clock: Callable[[], float]
    verified: list[Request] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def __call__(self, request: Request) -> Response:
        try:
            verify_signature(
                self.secret, request.headers.get("scout-signature"), request.body, now=self.clock()
            )
        except SignatureMismatch as exc:
            self.refused.append(str(exc))
            return Response.json({"error": str(exc)}, status=401)
        self.verified.append(request)
        return Response.json({"ok": True})
