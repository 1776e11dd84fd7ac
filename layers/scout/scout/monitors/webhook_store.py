"""The webhook outbox and delivery log's SQL functions as typed methods
(supabase/migrations/20261207000300_webhooks.sql); the outcome tags are read here, once.

``tests/integration/store/test_sql_signatures.py`` holds every declaration below against
``pg_proc``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from scout.cursors import DeliveriesPosition, Page, encode_cursor
from scout.errors import ErrorInfo
from scout.store.functions import INTEGER, JSONB, TEXT, TIMESTAMPTZ, sql_function
from scout.store.functions import UUID as SQL_UUID
from scout.store.protocol import Store

CLAIM_OUTBOX_EVENTS = sql_function(
    "claim_outbox_events", p_limit=INTEGER, p_lease_seconds=INTEGER, p_now=TIMESTAMPTZ
)
RETURN_OUTBOX_EVENTS = sql_function("return_outbox_events", p_event_ids=JSONB)
BEGIN_WEBHOOK_DELIVERY = sql_function(
    "begin_webhook_delivery", p_event_id=SQL_UUID, p_lease_seconds=INTEGER, p_now=TIMESTAMPTZ
)
RECORD_WEBHOOK_ATTEMPT = sql_function(
    "record_webhook_attempt",
    p_event_id=SQL_UUID,
    p_attempt=INTEGER,
    p_outcome=TEXT,
    p_status_code=INTEGER,
    p_error=JSONB,
    p_duration_ms=INTEGER,
    p_next_attempt_at=TIMESTAMPTZ,
    p_now=TIMESTAMPTZ,
)
LIST_WEBHOOK_DELIVERIES = sql_function(
    "list_webhook_deliveries",
    p_monitor_id=SQL_UUID,
    p_owner=TEXT,
    p_limit=INTEGER,
    p_after_attempted_at=TIMESTAMPTZ,
    p_after_id=SQL_UUID,
)

EventType = Literal["monitor.run.finished", "monitor.regression"]
AttemptOutcome = Literal["delivered", "retry", "abandoned", "disabled"]


class WebhookEvent(BaseModel):
    id: UUID
    monitor_id: UUID
    run_id: UUID
    type: EventType
    payload: dict[str, Any]
    created_at: datetime


class Webhook(BaseModel):
    url: str
    secret: str


@dataclass(frozen=True)
class DeliveryClaimed:
    """This attempt (``attempt``, counting it) holds the event; send it to ``webhook``."""

    event: WebhookEvent
    attempt: int
    webhook: Webhook


@dataclass(frozen=True)
class DeliverySkipped:
    """Nothing to send: the event is ``missing``, ``delivered``, ``abandoned`` or ``disabled``."""

    reason: str


@dataclass(frozen=True)
class DeliveryNotDue:
    """The next attempt is ``due_in_seconds`` away (or another attempt holds the event)."""

    due_in_seconds: int


class Delivery(BaseModel):
    """One attempt at delivering an event, as GET /monitors/{monitor_id}/deliveries lists it."""

    id: UUID
    event_id: UUID
    event_type: EventType
    run_id: UUID
    attempt: int = Field(ge=1)
    outcome: AttemptOutcome = Field(
        description="delivered (2xx); retry (another attempt follows); abandoned (24 hours of retries "
        "spent); disabled (the receiver answered 410 Gone: the monitor's webhook is disabled)"
    )
    status_code: int | None = Field(description="The receiver's HTTP status; null when none came back")
    error: ErrorInfo | None = Field(description="Why the attempt failed (timeout, connection_failed, ...)")
    duration_ms: int | None
    attempted_at: datetime


class DeliveryPage(Page[Delivery]):
    """A page of a monitor's delivery attempts, newest first."""


class WebhookStore:
    """The outbox and the delivery log over any :class:`scout.store.Store`."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def claim_outbox_events(self, limit: int, lease_seconds: int, now: datetime) -> list[UUID]:
        answer = await CLAIM_OUTBOX_EVENTS.call(
            self._store, p_limit=limit, p_lease_seconds=lease_seconds, p_now=now
        )
        return [UUID(str(event_id)) for event_id in answer["event_ids"]]

    async def return_outbox_events(self, event_ids: list[UUID]) -> int:
        answer = await RETURN_OUTBOX_EVENTS.call(self._store, p_event_ids=[str(e) for e in event_ids])
        return int(answer["returned"])

    async def begin_delivery(
        self, event_id: UUID, lease_seconds: int, now: datetime
    ) -> DeliveryClaimed | DeliverySkipped | DeliveryNotDue:
        answer = await BEGIN_WEBHOOK_DELIVERY.call(
            self._store, p_event_id=event_id, p_lease_seconds=lease_seconds, p_now=now
        )
        outcome = answer["outcome"]
        if outcome == "claimed":
            return DeliveryClaimed(
                event=WebhookEvent.model_validate(answer["event"]),
                attempt=int(answer["attempt"]),
                webhook=Webhook.model_validate(answer["webhook"]),
            )
        if outcome == "skipped":
            return DeliverySkipped(str(answer["reason"]))
        if outcome == "not_due":
            return DeliveryNotDue(int(answer["due_in_seconds"]))
        raise _unknown(BEGIN_WEBHOOK_DELIVERY.name, answer)

    async def record_attempt(
        self,
        event_id: UUID,
        attempt: int,
        outcome: AttemptOutcome,
        *,
        status_code: int | None,
        error: ErrorInfo | None,
        duration_ms: int | None,
        next_attempt_at: datetime | None,
        now: datetime,
    ) -> bool:
        """Record the attempt; whether it still decided the event (False: a later one took over)."""
        answer = await RECORD_WEBHOOK_ATTEMPT.call(
            self._store,
            p_event_id=event_id,
            p_attempt=attempt,
            p_outcome=outcome,
            p_status_code=status_code,
            p_error=error.model_dump() if error else None,
            p_duration_ms=duration_ms,
            p_next_attempt_at=next_attempt_at,
            p_now=now,
        )
        if answer["outcome"] not in ("recorded", "superseded"):
            raise _unknown(RECORD_WEBHOOK_ATTEMPT.name, answer)
        return bool(answer["outcome"] == "recorded")

    async def list_deliveries(
        self, monitor_id: UUID, owner: str, after: DeliveriesPosition | None, limit: int
    ) -> DeliveryPage:
        """The monitor's attempts, newest first; ``NotFound`` when it is not ``owner``'s."""
        page = await LIST_WEBHOOK_DELIVERIES.call(
            self._store,
            p_monitor_id=monitor_id,
            p_owner=owner,
            p_limit=limit,
            p_after_attempted_at=after.attempted_at if after else None,
            p_after_id=after.id if after else None,
        )
        following = page.get("next")
        return DeliveryPage(
            items=[Delivery.model_validate(item) for item in page["items"]],
            next_cursor=encode_cursor(
                DeliveriesPosition,
                {"attempted_at": following["attempted_at"], "id": following["id"]} if following else None,
            ),
        )


def _unknown(function: str, answer: Any) -> RuntimeError:
    # The migrations and this module disagree: a deploy mismatch, never the caller's fault.
    return RuntimeError(f"{function} answered an outcome this code does not know: {answer!r:.200}")
