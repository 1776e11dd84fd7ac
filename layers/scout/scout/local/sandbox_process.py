"""One warm execution environment: a process that imports a function's handler once and then
serves invocations one at a time, like a Lambda sandbox.

The parent talks to it over two pipes of length-prefixed JSON messages, so whatever the handler
prints stays on stdout/stderr as logs. When the parent goes away the request pipe reaches end of
file and the worker exits: nothing is left running.

Run as ``python -m scout.local.sandbox_process CONFIG_JSON``.
"""

from __future__ import annotations

import json
import os
import select
import struct
import sys
import time
from typing import Any

from scout.local.lambda_runtime import InitError, LambdaContext, call_handler, load_handler

_HEADER = struct.Struct(">I")


class PipeClosed(Exception):
    """The other end of the pipe is gone."""


def send_message(fd: int, message: dict[str, Any]) -> None:
    data = json.dumps(message).encode("utf-8")
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def receive_message(fd: int, timeout: float | None = None) -> dict[str, Any]:
    """The next message; ``TimeoutError`` when none is complete within ``timeout`` seconds."""
    deadline = None if timeout is None else time.monotonic() + timeout
    header = _read_exactly(fd, _HEADER.size, deadline)
    (length,) = _HEADER.unpack(header)
    message: dict[str, Any] = json.loads(_read_exactly(fd, length, deadline))
    return message


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError
        chunk = os.read(fd, size - len(chunks))
        if not chunk:
            raise PipeClosed
        chunks.extend(chunk)
    return bytes(chunks)


def serve(config: dict[str, Any]) -> int:
    read_fd, write_fd = config["read_fd"], config["write_fd"]
    started = time.monotonic()
    try:
        handler = load_handler(config["handler"], config["paths"])
    except InitError as exc:
        _log_error(exc.error)
        send_message(write_fd, {"init_error": exc.error})
        return 1
    send_message(write_fd, {"ready": True, "init_ms": round((time.monotonic() - started) * 1000, 1)})
    while True:
        try:
            request = receive_message(read_fd)
        except PipeClosed:
            return 0
        context = LambdaContext(
            function_name=config["function_name"],
            memory_mb=config["memory_mb"],
            request_id=request["request_id"],
            deadline_ms=request["deadline_ms"],
            region=config["region"],
            account_id=config["account_id"],
        )
        outcome = call_handler(handler, request["event"], context)
        if outcome.error is not None:
            _log_error(outcome.error)
        sys.stdout.flush()
        sys.stderr.flush()
        send_message(write_fd, {"payload_json": outcome.payload_json, "error": outcome.error})


def _log_error(error: dict[str, Any]) -> None:
    # What the Lambda runtime writes to the function's log for an error.
    trace = "".join(error.get("stackTrace") or [])
    print(f"[ERROR] {error['errorType']}: {error['errorMessage']}\n{trace}".rstrip(), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(serve(json.loads(sys.argv[1])))
