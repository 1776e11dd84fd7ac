"""Logger, Tracer and Metrics shared by every function (service name from the environment)."""

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="scout")

# Most invocations record no custom metric; Powertools warns about that on every flush.
warnings.filterwarnings("ignore", message="No application metrics to publish")
