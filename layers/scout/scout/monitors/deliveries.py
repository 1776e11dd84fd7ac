"""Delivering one webhook event: sign, POST through the egress guard, record the attempt.

``deliver_event`` runs once per delivery-queue message. ``begin_webhook_delivery`` decides in
SQL whether this message may attempt the event (SQS delivers at least once, and a retry's
message may arrive before the retry is due); the attempt and its consequences are recorded in
one more call. Outcomes:

- 2xx: delivered. 410 Gone: the monitor's webhook is disabled and the event given up.
- anything else (timeout, refused connection, DNS, a blocked address, 3xx - redirects are
  never followed -, 4xx, 5xx, 429 with its Retry-After honoured): another attempt after an
  exponential backoff with jitter, for up to 24 hours after the event was written; then the
  event is abandoned.

Long backoffs and SQS: a message can be delayed 900 s at most. A retry is recorded with its
``next_attempt_at`` and re-sent with ``min(delay, 900)``; a message arriving before the
event is due is re-sent with the time still to wait, so a one-hour backoff is four hops.
The database, not the message, says when an attempt is due; ChangeMessageVisibility (up to
12 h) would tie the schedule to one receipt handle and a message's 14-day retention instead.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from scout.cursors import DeliveriesPosition, decode_cursor
from scout.egress.urls import parse_target_url
from scout.errors import BadRequest, BlockedTarget, DnsFailed, ErrorInfo, InvalidUrl, NotFound
from scout.monitors.signing import SIGNATURE_HEADER, signature_header
from scout.monitors.webhook_relay import MAX_QUEUE_DELAY_SECONDS, WebhookQueue
from scout.monitors.webhook_store import (
    AttemptOutcome,
    DeliveryClaimed,
    DeliveryNotDue,
    DeliveryPage,
    DeliverySkipped,
    WebhookEvent,
    WebhookStore,
)
from scout.observability import logger

if TYPE_CHECKING:
    import ssl
    from pathlib import Path

    import httpx

    from scout.egress.policy import EgressPolicy
    from scout.store.protocol import Store

DEFAULT_TIMEOUT_SECONDS = 10.0
GIVE_UP_AFTER = timedelta(hours=24)
FIRST_RETRY_SECONDS = 30.0
LONGEST_RETRY_SECONDS = 3600.0
# Held by an attempt on top of its time limit, so a duplicate message meanwhile waits.
ATTEMPT_LEASE_MARGIN_SECONDS = 30


@dataclass(frozen=True)
class AttemptResult:
    """What the receiver (or the way to it) answered to one POST."""

    status_code: int | None
    error: ErrorInfo | None
    duration_ms: int
    retry_after_seconds: float | None = None


def trusting_ca_bundle(ca_bundle: Path | None) -> ssl.SSLContext | None:
    """The default CA certificates plus those in ``ca_bundle`` (``WEBHOOK_CA_BUNDLE``), or
    None without one (the sender then uses the default context). Certificates stay verified."""
    if ca_bundle is None:
        return None
    import ssl

    import httpx

    context = httpx.create_ssl_context(trust_env=False)
    try:
        context.load_verify_locations(cafile=str(ca_bundle))
    except ssl.SSLError as exc:
        raise RuntimeError(f"WEBHOOK_CA_BUNDLE {ca_bundle} holds no PEM CA certificate: {exc}") from exc
    return context


class WebhookSender:
    """POSTs signed events through an egress-guarded client that follows no redirect."""

    def __init__(
        self, client: httpx.AsyncClient, *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    ) -> None:
        self._client = client
        self.timeout_seconds = timeout_seconds

    @classmethod
    def guarded(
        cls,
        policy: EgressPolicy,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        ssl_context: ssl.SSLContext | None = None,
    ) -> WebhookSender:
        from scout.egress.transport import new_guarded_client

        client = new_guarded_client(
            policy, follow_redirects=False, timeout=timeout_seconds, ssl_context=ssl_context
        )
        return cls(client, timeout_seconds=timeout_seconds)

    @property
    def closed(self) -> bool:
        return self._client.is_closed

    async def aclose(self) -> None:
        await self._client.aclose()

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> AttemptResult:
        import httpx  # with the first POST: the deliveries route (audit API) never sends

        started = time.perf_counter()

        def took() -> int:
            return round((time.perf_counter() - started) * 1000)

        try:
            target = parse_target_url(url)
            # httpx's timeout bounds each read; this bounds the whole exchange, so a receiver
            # that trickles its answer is cut at the limit too.
            async with asyncio.timeout(self.timeout_seconds):
                request = self._client.build_request("POST", target.url, content=body, headers=headers)
                response = await self._client.send(request, stream=True)
                await response.aclose()  # the body is not read: only the status counts
        except TimeoutError:
            return _failed(
                "timeout", f"the receiver did not answer within {self.timeout_seconds:g} s", took()
            )
        except httpx.TimeoutException:
            return _failed(
                "timeout", f"the receiver did not answer within {self.timeout_seconds:g} s", took()
            )
        except (InvalidUrl, BlockedTarget, DnsFailed) as exc:
            return _failed(exc.code, str(exc), took())
        except httpx.ConnectError as exc:
            return _failed("connection_failed", f"could not connect to the receiver: {exc}", took())
        except httpx.HTTPError as exc:
            return _failed("connection_failed", f"the exchange with the receiver failed: {exc}", took())
        status = response.status_code
        if 200 <= status < 300:
            return AttemptResult(status, None, took())
        if 300 <= status < 400:
            error = ErrorInfo(
                code="redirect_refused", message=f"the receiver answered {status}; redirects are not followed"
            )
        elif status == 410:
            error = ErrorInfo(code="gone", message="the receiver answered 410 Gone: the webhook is disabled")
        elif status == 429:
            error = ErrorInfo(code="rate_limited", message="the receiver answered 429 Too Many Requests")
        else:
            error = ErrorInfo(code="http_error", message=f"the receiver answered {status}")
        return AttemptResult(status, error, took(), retry_after_seconds=_retry_after(response))


def _failed(code: str, message: str, duration_ms: int) -> AttemptResult:
    return AttemptResult(None, ErrorInfo(code=code, message=message), duration_ms)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def retry_delay_seconds(
    attempt: int,
    *,
    retry_after_seconds: float | None,
    jitter: float,
    first_retry_seconds: float = FIRST_RETRY_SECONDS,
) -> float:
    """The wait after failed attempt ``attempt``: doubling from 30 s to an hour, the upper half
    of it at random (``jitter`` in [0, 1)) so receivers coming back are not hit all at once,
    and never less than the receiver's Retry-After."""
    ceiling = min(LONGEST_RETRY_SECONDS, first_retry_seconds * 2 ** max(0, attempt - 1))
    delay = ceiling / 2 + ceiling / 2 * jitter
    if retry_after_seconds is not None:
        delay = max(delay, retry_after_seconds)
    return delay


@dataclass(frozen=True)
class DeliveryOutcome:
    """What became of one message (for logs, metrics and tests)."""

    outcome: Literal["delivered", "retry", "abandoned", "disabled", "skipped", "not_due", "superseded"]
    attempt: int | None = None
    reason: str | None = None
    next_attempt_at: datetime | None = None


def event_body(event: WebhookEvent) -> bytes:
    """The bytes signed and sent: the payload as written, compact."""
    return json.dumps(event.payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


async def deliver_event(
    event_id: UUID,
    *,
    store: Store,
    sender: WebhookSender,
    queue: WebhookQueue,
    now: datetime | None = None,
    jitter: Callable[[], float] = random.random,
    first_retry_seconds: float = FIRST_RETRY_SECONDS,
) -> DeliveryOutcome:
    """One attempt at ``event_id`` (or none, when it is not due or is done with).

    Raises only when the store or the queue fails, so SQS delivers the message again.
    """
    attempt_at = now or datetime.now(UTC)
    webhooks = WebhookStore(store)
    lease = int(sender.timeout_seconds) + ATTEMPT_LEASE_MARGIN_SECONDS
    claim = await webhooks.begin_delivery(event_id, lease, attempt_at)
    log_context = {"event_id": str(event_id)}
    if isinstance(claim, DeliverySkipped):
        logger.info("webhook event skipped", extra={**log_context, "reason": claim.reason})
        return DeliveryOutcome("skipped", reason=claim.reason)
    if isinstance(claim, DeliveryNotDue):
        await queue.send(event_id, min(claim.due_in_seconds, MAX_QUEUE_DELAY_SECONDS))
        return DeliveryOutcome(
            "not_due", next_attempt_at=attempt_at + timedelta(seconds=claim.due_in_seconds)
        )
    assert isinstance(claim, DeliveryClaimed)
    event = claim.event
    body = event_body(event)
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature_header(claim.webhook.secret, body, int(attempt_at.timestamp())),
        # The same id on every attempt: receivers drop an event they already have.
        "Scout-Event-Id": str(event.id),
        "Scout-Event-Type": event.type,
        "Scout-Delivery-Attempt": str(claim.attempt),
    }
    result = await sender.post(claim.webhook.url, body, headers)
    outcome, next_attempt_at = _decide(
        event, claim.attempt, result, attempt_at, jitter(), first_retry_seconds
    )
    decided = await webhooks.record_attempt(
        event.id,
        claim.attempt,
        outcome,
        status_code=result.status_code,
        error=result.error,
        duration_ms=result.duration_ms,
        next_attempt_at=next_attempt_at,
        now=attempt_at,
    )
    logger.info(
        "webhook attempt",
        extra={
            **log_context,
            "attempt": claim.attempt,
            "outcome": outcome,
            "status_code": result.status_code,
            "error_code": result.error.code if result.error else None,
        },
    )
    if not decided:
        return DeliveryOutcome("superseded", attempt=claim.attempt)
    if next_attempt_at is not None:
        wait = max(0, round((next_attempt_at - attempt_at).total_seconds()))
        await queue.send(event.id, min(wait, MAX_QUEUE_DELAY_SECONDS))
    return DeliveryOutcome(outcome, attempt=claim.attempt, next_attempt_at=next_attempt_at)


def _decide(
    event: WebhookEvent,
    attempt: int,
    result: AttemptResult,
    now: datetime,
    jitter: float,
    first_retry_seconds: float,
) -> tuple[AttemptOutcome, datetime | None]:
    if result.error is None:
        return "delivered", None
    if result.status_code == 410:
        return "disabled", None
    if result.error.code == "invalid_url":
        return "abandoned", None  # no retry can reach a URL that cannot be parsed
    give_up_at = event.created_at + GIVE_UP_AFTER
    if now >= give_up_at:
        return "abandoned", None
    delay = retry_delay_seconds(
        attempt,
        retry_after_seconds=result.retry_after_seconds,
        jitter=jitter,
        first_retry_seconds=first_retry_seconds,
    )
    # The last attempt falls on the 24-hour mark rather than being skipped.
    return "retry", min(now + timedelta(seconds=delay), give_up_at)


DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


async def list_deliveries(
    monitor_id: str, owner: str, *, store: Store, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> DeliveryPage:
    """The attempts at delivering the events of ``owner``'s monitor, newest first.

    ``NotFound`` for a monitor id that is malformed, unknown, or another owner's: the answer
    never tells whether someone else's monitor exists.
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise BadRequest(f"limit must be between 1 and {MAX_PAGE_SIZE}.")
    try:
        monitor = UUID(monitor_id)
    except ValueError:
        raise NotFound(f"No monitor {monitor_id[:64]!r} here.") from None
    return await WebhookStore(store).list_deliveries(
        monitor, owner, decode_cursor(DeliveriesPosition, cursor), limit
    )
