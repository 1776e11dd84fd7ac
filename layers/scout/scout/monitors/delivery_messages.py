"""The webhook delivery worker's record handler: one queue message, one attempt at one event.

A body that is not a delivery message raises every time, so after the queue's
``maxReceiveCount`` receives it is moved to the dead-letter queue (``WebhookDeadLetterQueue``).
The store or the queue failing raises too: the message comes back after the visibility
timeout, and ``begin_webhook_delivery`` makes the repeat safe.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from scout import deps
from scout.monitors.deliveries import deliver_event
from scout.monitors.webhook_relay import event_id_of
from scout.observability import metrics

_METRICS = {
    "delivered": "WebhooksDelivered",
    "retry": "WebhookAttemptsFailed",
    "abandoned": "WebhooksAbandoned",
    "disabled": "WebhooksDisabled",
}


async def deliver_queued_event(
    record: SQSRecord, lambda_context: LambdaContext | None = None
) -> dict[str, Any]:
    event_id = event_id_of(record.body)
    parts = deps.current()
    done = await deliver_event(
        event_id,
        store=parts.store(),
        sender=parts.webhook_sender(),
        queue=parts.webhook_queue(),
        first_retry_seconds=parts.settings.webhook_first_retry_seconds,
    )
    if done.outcome in _METRICS:
        metrics.add_metric(name=_METRICS[done.outcome], unit=MetricUnit.Count, value=1)
    return {"event_id": str(event_id), "outcome": done.outcome, "attempt": done.attempt}
