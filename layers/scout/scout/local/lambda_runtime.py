"""What the Lambda Python runtime does inside an execution environment: import the handler once
(the init phase), then call it per invocation with a context, turning exceptions into Lambda's
error shape. Used in-process by ``scout invoke`` and in each warm worker of ``scout dev``.

Standard library only: the worker runs it before the function's own paths are in place.
"""

from __future__ import annotations

import decimal
import importlib
import json
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Handler = Callable[[Any, Any], Any]


class LambdaContext:
    """The context object handlers receive (the attributes and method Lambda documents)."""

    def __init__(
        self,
        *,
        function_name: str,
        memory_mb: int,
        request_id: str,
        deadline_ms: int,
        region: str,
        account_id: str,
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local/[$LATEST]local"
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


class InitError(Exception):
    """The init phase failed; ``error`` is Lambda's error object."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["errorMessage"])
        self.error = error


def load_handler(handler: str, paths: Sequence[str]) -> Handler:
    """Put the task root and layers first on ``sys.path`` and import the handler (once)."""
    for path in reversed(paths):
        if path not in sys.path:
            sys.path.insert(0, path)
    module_name, _, attribute = handler.rpartition(".")
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InitError(
            error_object(exc, "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}")
        ) from exc
    except Exception as exc:
        raise InitError(error_object(exc)) from exc
    function = getattr(module, attribute, None)
    if not callable(function):
        message = f"Handler '{attribute}' missing on module '{module_name}'"
        raise InitError({"errorMessage": message, "errorType": "Runtime.HandlerNotFound", "stackTrace": []})
    handler_function: Handler = function
    return handler_function


@dataclass(frozen=True)
class Outcome:
    """One invocation's result: the JSON text of the return value, or Lambda's error object."""

    payload_json: str | None
    error: dict[str, Any] | None


def call_handler(handler: Handler, event: Any, context: LambdaContext) -> Outcome:
    try:
        result = handler(event, context)
    except Exception as exc:
        return Outcome(None, error_object(exc))
    try:
        return Outcome(json.dumps(result, default=_json_default), None)
    except (TypeError, ValueError) as exc:
        message = f"Unable to marshal response: {exc}"
        return Outcome(None, {"errorMessage": message, "errorType": "Runtime.MarshalError", "stackTrace": []})


def error_object(
    exc: BaseException, error_type: str | None = None, message: str | None = None
) -> dict[str, Any]:
    return {
        "errorMessage": message if message is not None else str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def _json_default(value: Any) -> Any:
    # The Lambda runtime serialises Decimal (DynamoDB's number type) rather than failing.
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
