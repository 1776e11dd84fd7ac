"""Audit API: POST /scans, GET /scans, GET /scans/{scan_id}."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from scout import deps
from scout.audit.api import app, check_configuration
from scout.observability import logger, metrics, tracer

# Fail the cold start, not the first request, when the queue or bucket is missing.
check_configuration(deps.settings())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
