"""Poll scheduler: on the EventBridge schedule, enqueue every due source on the poll queue."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from scout import deps, runtime
from scout.jobs.scheduling import enqueue_due_sources
from scout.observability import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    parts = deps.current()
    report = runtime.run(
        enqueue_due_sources(
            store=parts.store(), queue=parts.poll_queue(), lease_seconds=parts.settings.poll_lease_seconds
        )
    )
    return report.model_dump()
