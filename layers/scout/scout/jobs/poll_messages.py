"""The poll worker's record handler: one poll queue message, one source polled.

The handler takes the store and settings from the process's dependencies (:mod:`scout.deps`)
and hands them to :func:`scout.jobs.polling.poll_source`.

The worker function gathers a batch's records concurrently (``scout.batch``); a record that
raises is reported as a batch item failure and comes back after the visibility timeout
(then to the dead-letter queue). Only what a retry can fix raises: the store failing, or a
message that cannot be read at all. A failed fetch is recorded and done with. A message
received more than once had an attempt before that never finished (its worker died, or its
record failed): that attempt's run is closed as failed and the retry recorded as its own.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from scout import deps
from scout.errors import NotFound
from scout.jobs.poll_queue import PollRequest
from scout.jobs.polling import poll_source
from scout.observability import logger, metrics
from scout.settings import Settings

# Left for syncing the result and answering Lambda after the fetch's deadline has passed.
SYNC_RESERVE_SECONDS = 10.0


def fetch_deadline(settings: Settings, context: LambdaContext | None) -> float:
    """The configured deadline, shortened to fit what is left of the invocation."""
    deadline = settings.poll_deadline_seconds
    if context is not None:
        remaining = context.get_remaining_time_in_millis() / 1000 - SYNC_RESERVE_SECONDS
        deadline = min(deadline, max(remaining, 1.0))
    return deadline


def _receive_count(record: SQSRecord) -> int:
    try:
        return int(record.attributes.approximate_receive_count)
    except (KeyError, TypeError, ValueError):
        return 1


async def poll_queued_source(
    record: SQSRecord, lambda_context: LambdaContext | None = None
) -> dict[str, Any]:
    request = PollRequest.model_validate_json(record.body)
    parts = deps.current()
    settings = parts.settings
    try:
        run = await poll_source(
            request,
            store=parts.store(),
            settings=settings,
            deadline_seconds=fetch_deadline(settings, lambda_context),
            redelivered=_receive_count(record) > 1,
        )
    except NotFound:
        # Deleted after it was enqueued: there is nothing left to poll, so no retry either.
        logger.info("source deleted before its poll", extra={"source_id": str(request.source_id)})
        metrics.add_metric(name="PollsOfDeletedSources", unit=MetricUnit.Count, value=1)
        return {"source_id": str(request.source_id), "status": "source_deleted"}
    metrics.add_metric(
        name="PollsSucceeded" if run.status == "succeeded" else "PollsFailed", unit=MetricUnit.Count, value=1
    )
    if run.archived:
        metrics.add_metric(name="PostingsArchived", unit=MetricUnit.Count, value=run.archived)
    return {"source_id": str(request.source_id), "status": run.status, "run_id": str(run.id)}
