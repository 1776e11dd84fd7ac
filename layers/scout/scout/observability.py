"""Logger, Tracer and Metrics shared by every function (service name from the environment)."""

from __future__ import annotations

import functools
import threading
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

Handler = TypeVar("Handler", bound=Callable[..., Any])


class DeferredTracer:
    """Powertools' Tracer, built on the first invocation instead of at import.

    With tracing active, building a Tracer loads the X-Ray SDK and patches every library it
    knows (botocore among them): about half a second of an API function's import, paid
    before the first request could be served (bench/cold_start.py). The first invocation
    pays it instead, and only once per execution environment.
    """

    def __init__(self) -> None:
        self._tracer: Tracer | None = None
        self._lock = threading.Lock()

    @property
    def tracer(self) -> Tracer:
        with self._lock:
            if self._tracer is None:
                from aws_lambda_powertools import Tracer

                self._tracer = Tracer()
            return self._tracer

    def capture_lambda_handler(self, handler: Handler) -> Handler:
        """Powertools' ``capture_lambda_handler``, applied when the handler is first called."""
        traced: Callable[..., Any] | None = None

        @functools.wraps(handler)
        def invoke(event: Any, context: Any) -> Any:
            nonlocal traced
            if traced is None:
                traced = self.tracer.capture_lambda_handler(handler)
            return traced(event, context)

        return invoke  # type: ignore[return-value]


logger = Logger()
tracer = DeferredTracer()
metrics = Metrics(namespace="scout")

# Most invocations record no custom metric; Powertools warns about that on every flush.
warnings.filterwarnings("ignore", message="No application metrics to publish")
