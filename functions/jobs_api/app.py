"""Jobs API: /health, /openapi.json, /jobs, /companies and the admin /sources routes."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from scout import deps
from scout.jobs.api import app
from scout.observability import logger, metrics, tracer

# Configuration fails closed at cold start, not on the first request.
deps.settings()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
