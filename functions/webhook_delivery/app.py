"""Webhook delivery worker: SQS delivery-queue batches -> each event signed and POSTed, concurrently."""

from typing import Any

from aws_lambda_powertools.utilities.batch import EventType, async_process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from scout.batch import LoopBoundBatchProcessor
from scout.monitors.delivery_messages import deliver_queued_event
from scout.observability import logger, metrics, tracer

processor = LoopBoundBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return async_process_partial_response(event, deliver_queued_event, processor, context)
