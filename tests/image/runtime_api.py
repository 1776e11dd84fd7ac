"""Lambda's Runtime API (version 2018-06-01) on loopback, for one execution environment.

What a runtime interface client such as ``awslambdaric`` talks to inside Lambda: it asks
``GET /2018-06-01/runtime/invocation/next`` for an event (the call blocks until there is one),
answers it with ``POST .../invocation/{request_id}/response`` or ``.../error``, and reports a
failed init phase with ``POST .../init/error``. Lambda's documented headers travel with each
event (``Lambda-Runtime-Aws-Request-Id``, ``-Deadline-Ms``, ``-Invoked-Function-Arn``,
``-Trace-Id``); a runtime's error type arrives in ``Lambda-Runtime-Function-Error-Type``.
Reference: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html

The test side calls ``invoke(event)``, which hands the event to the runtime's next ``next``
and waits for its answer. Time stamps make Lambda's figures measurable: the init phase ends
when the runtime first asks for an event.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_PREFIX = "/2018-06-01/runtime"
# Lambda's limit for a synchronous response payload.
MAX_RESPONSE_BYTES = 6 * 1024 * 1024
ACCOUNT_ID = "123456789012"


class RuntimeGone(Exception):
    """The execution environment stopped (or failed its init) before answering."""


@dataclass
class Invocation:
    request_id: str
    event: bytes
    timeout_seconds: float
    delivered_at: float | None = None
    answered_at: float | None = None
    deadline_ms: int | None = None
    response: bytes | None = None
    error: dict[str, Any] | None = None
    error_type: str | None = None
    answered: threading.Event = field(default_factory=threading.Event)

    @property
    def succeeded(self) -> bool:
        return self.response is not None

    def result(self) -> Any:
        """The handler's return value; raises AssertionError with the function's error."""
        if self.response is None:
            raise AssertionError(f"the function failed: {self.error_type}: {self.error}")
        return json.loads(self.response)

    @property
    def duration_seconds(self) -> float:
        """From handing the event to the runtime to its answer: what Lambda bills as Duration."""
        assert self.delivered_at is not None
        assert self.answered_at is not None
        return self.answered_at - self.delivered_at


class LambdaRuntimeApi:
    """One execution environment's Runtime API on 127.0.0.1; ``address`` is AWS_LAMBDA_RUNTIME_API."""

    def __init__(
        self, *, function_name: str = "function", region: str = "us-east-1", timeout_seconds: float = 30
    ) -> None:
        self.function_arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name}"
        self.timeout_seconds = timeout_seconds
        self.started_at = time.monotonic()
        self.first_next_at: float | None = None
        self.init_error: dict[str, Any] | None = None
        self.init_error_type: str | None = None
        self._pending: queue.Queue[Invocation] = queue.Queue()
        self._in_flight: dict[str, Invocation] = {}
        self._changed = threading.Condition()
        self._closing = threading.Event()
        handler = type("RuntimeApiHandler", (_RuntimeApiHandler,), {"api": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="runtime-api", daemon=True)

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def __enter__(self) -> LambdaRuntimeApi:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # ---- the test side ------------------------------------------------------------------------

    def wait_for_init(
        self, *, timeout: float, alive: Callable[[], bool] = lambda: True, since: float | None = None
    ) -> float:
        """Seconds from ``since`` (a ``time.monotonic()``, by default this API's start) to the
        runtime's first ``next``: Lambda's Init Duration when ``since`` is the process's start."""
        self._wait(lambda: self.first_next_at is not None or self.init_error is not None, timeout, alive)
        if self.init_error is not None:
            raise RuntimeGone(f"init failed: {self.init_error_type}: {self.init_error}")
        if self.first_next_at is None:
            raise RuntimeGone(
                "the runtime stopped during init" if not alive() else f"no init within {timeout} s"
            )
        return self.first_next_at - (self.started_at if since is None else since)

    def invoke(self, event: Any, *, timeout: float, alive: Callable[[], bool] = lambda: True) -> Invocation:
        """Hand ``event`` to the runtime and wait for its response or error."""
        invocation = Invocation(str(uuid.uuid4()), json.dumps(event).encode(), self.timeout_seconds)
        self._pending.put(invocation)
        self._wait(invocation.answered.is_set, timeout, alive)
        if not invocation.answered.is_set():
            why = f"no answer within {timeout} s" if alive() else "the runtime stopped before answering"
            raise RuntimeGone(f"invocation {invocation.request_id}: {why}")
        return invocation

    def _wait(self, done: Callable[[], bool], timeout: float, alive: Callable[[], bool]) -> None:
        # Polls ``alive`` too: a process that dies sends no request that would wake us.
        until = time.monotonic() + timeout
        with self._changed:
            while not done() and alive() and (left := until - time.monotonic()) > 0:
                self._changed.wait(min(left, 0.2))

    # ---- the runtime side (called by the HTTP handler) --------------------------------------

    def _next(self) -> Invocation | None:
        with self._changed:
            if self.first_next_at is None:
                self.first_next_at = time.monotonic()
            self._changed.notify_all()
        while not self._closing.is_set():
            try:
                invocation = self._pending.get(timeout=0.2)
            except queue.Empty:
                continue
            invocation.delivered_at = time.monotonic()
            invocation.deadline_ms = int((time.time() + invocation.timeout_seconds) * 1000)
            self._in_flight[invocation.request_id] = invocation
            return invocation
        return None

    def _answer(
        self,
        request_id: str,
        *,
        response: bytes | None = None,
        error: Any = None,
        error_type: str | None = None,
    ) -> bool:
        invocation = self._in_flight.pop(request_id, None)
        if invocation is None:
            return False
        invocation.response, invocation.error, invocation.error_type = response, error, error_type
        invocation.answered_at = time.monotonic()
        with self._changed:
            invocation.answered.set()
            self._changed.notify_all()
        return True

    def _fail_init(self, error: Any, error_type: str | None) -> bool:
        if self.first_next_at is not None:
            return False  # the init phase is over: Lambda refuses the call
        with self._changed:
            self.init_error, self.init_error_type = error, error_type
            self._changed.notify_all()
        return True


class _RuntimeApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    api: LambdaRuntimeApi  # set on the subclass each API makes

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path != f"{API_PREFIX}/invocation/next":
            self._error(HTTPStatus.NOT_FOUND, "UnknownRoute", f"GET {self.path}")
            return
        invocation = self.api._next()
        if invocation is None:
            self._error(
                HTTPStatus.INTERNAL_SERVER_ERROR, "ServiceStopping", "the environment is shutting down"
            )
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(invocation.event)))
        self.send_header("Lambda-Runtime-Aws-Request-Id", invocation.request_id)
        self.send_header("Lambda-Runtime-Deadline-Ms", str(invocation.deadline_ms))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", self.api.function_arn)
        self.send_header("Lambda-Runtime-Trace-Id", _trace_header())
        self.end_headers()
        self.wfile.write(invocation.event)

    def do_POST(self) -> None:
        body = self._body()
        parts = self.path.removeprefix(API_PREFIX).strip("/").split("/")
        error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
        if parts == ["init", "error"]:
            self._init_error(body, error_type)
        elif len(parts) == 3 and parts[0] == "invocation" and parts[2] == "response":
            self._response(parts[1], body)
        elif len(parts) == 3 and parts[0] == "invocation" and parts[2] == "error":
            self._invocation_error(parts[1], body, error_type)
        else:
            self._error(HTTPStatus.NOT_FOUND, "UnknownRoute", f"POST {self.path}")

    def _init_error(self, body: bytes, error_type: str | None) -> None:
        if self.api._fail_init(_json_or_text(body), error_type):
            self._accepted()
        else:
            self._error(HTTPStatus.FORBIDDEN, "InvalidStateTransition", "init has already finished")

    def _response(self, request_id: str, body: bytes) -> None:
        if len(body) > MAX_RESPONSE_BYTES:
            too_large = {"errorMessage": f"response of {len(body)} bytes"}
            if self.api._answer(request_id, error=too_large, error_type="Function.ResponseSizeTooLarge"):
                self._error(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    "RequestEntityTooLarge",
                    too_large["errorMessage"],
                )
                return
        self._answered(self.api._answer(request_id, response=body), request_id)

    def _invocation_error(self, request_id: str, body: bytes, error_type: str | None) -> None:
        self._answered(
            self.api._answer(request_id, error=_json_or_text(body), error_type=error_type), request_id
        )

    def _answered(self, answered: bool, request_id: str) -> None:
        if answered:
            self._accepted()
        else:
            self._error(
                HTTPStatus.BAD_REQUEST, "InvalidRequestID", f"no invocation {request_id} awaits an answer"
            )

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _accepted(self) -> None:
        self._json(HTTPStatus.ACCEPTED, {"status": "OK"})

    def _error(self, status: HTTPStatus, error_type: str, message: str) -> None:
        self._json(status, {"errorType": error_type, "errorMessage": message})

    def _json(self, status: HTTPStatus, payload: dict[str, str]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _json_or_text(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body.decode(errors="replace")


def _trace_header() -> str:
    root = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    return f"Root={root};Parent={uuid.uuid4().hex[:16]};Sampled=0"
