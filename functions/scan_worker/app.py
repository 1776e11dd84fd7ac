"""Scan worker: SQS FIFO (batch size 1) -> scan engine -> reports bucket and store."""

from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from scout import deps
from scout.audit.scan_processing import handle_scan_message
from scout.observability import logger, metrics, tracer

# Built at cold start: configuration problems (REPORTS_BUCKET unset) fail here, not on the
# first message.
deps.current().artifacts()
processor = SqsFifoPartialProcessor()


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> None:
    handle_scan_message(
        record.body, remaining_millis=lambda_context.get_remaining_time_in_millis(), parts=deps.current()
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
