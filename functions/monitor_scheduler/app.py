"""Monitor scheduler: on the EventBridge schedule, plan a run of every due monitor."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from scout import deps, runtime
from scout.monitors.scheduling import run_due_monitors
from scout.observability import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    parts = deps.current()
    report = runtime.run(
        run_due_monitors(
            store=parts.store(),
            queue=parts.scan_queue(),
            sitemap_client=parts.sitemap_client(),
            webhook_queue=parts.webhook_queue() if parts.settings.webhook_queue_url else None,
        )
    )
    return report.model_dump()
