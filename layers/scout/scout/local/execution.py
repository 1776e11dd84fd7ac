"""Warm execution environments for ``scout dev``: each function runs in its own worker process,
with its own environment variables, imported once and reused, one invocation at a time.

Why processes: ``scout.runtime`` keeps one event loop per process and pooled clients bound to
it, and functions differ in their environment; a process per environment gives each function
what a Lambda sandbox gives it. Like Lambda, a busy function gets another environment (up to
``max_environments``), a timed-out or crashed environment is thrown away, and a failed init is
retried on the next invocation.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import scout
from scout.local.sandbox_process import PipeClosed, receive_message, send_message
from scout.local.template import FunctionSpec

LogSink = Callable[[str], None]
# Slack for the pipe round trip on top of the function's own timeout.
_TIMEOUT_SLACK_SECONDS = 0.25
_STOP_GRACE_SECONDS = 3.0
_SCOUT_SOURCE_ROOT = str(Path(scout.__file__).resolve().parents[1])


@dataclass(frozen=True)
class Invocation:
    request_id: str
    payload: Any = None
    error: dict[str, Any] | None = None
    cold: bool = False
    init_ms: float | None = None
    duration_ms: float = 0.0
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


class InitFailed(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('errorType')}: {error.get('errorMessage')}")
        self.error = error


class PoolClosed(Exception):
    """The stack is shutting down; no new invocations start."""


@dataclass(frozen=True)
class RuntimeIdentity:
    region: str
    account_id: str


class ExecutionEnvironment:
    """One worker process serving one function."""

    def __init__(
        self,
        spec: FunctionSpec,
        variables: dict[str, str],
        identity: RuntimeIdentity,
        log_sink: LogSink | None = None,
    ) -> None:
        self.spec = spec
        self._variables = variables
        self._identity = identity
        self._log_sink = log_sink
        self._process: subprocess.Popen[bytes] | None = None
        self._to_worker = -1
        self._from_worker = -1
        self._pumps: list[threading.Thread] = []
        self.alive = False
        self.init_ms: float | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, timeout: float | None = None) -> float:
        """Start the worker and run the init phase; raise :class:`InitFailed` on failure."""
        child_read, parent_write = os.pipe()
        parent_read, child_write = os.pipe()
        paths = [str(self.spec.code_dir), *(str(path) for path in self.spec.layer_dirs)]
        config = {
            "handler": self.spec.handler,
            "paths": paths,
            "function_name": self.spec.logical_id,
            "memory_mb": self.spec.memory_mb,
            "region": self._identity.region,
            "account_id": self._identity.account_id,
            "read_fd": child_read,
            "write_fd": child_write,
        }
        environment = dict(self._variables)
        # The worker module itself comes from this scout; the function's paths come first.
        environment["PYTHONPATH"] = os.pathsep.join([*paths, _SCOUT_SOURCE_ROOT])
        environment["PYTHONUNBUFFERED"] = "1"
        capture = subprocess.PIPE if self._log_sink is not None else None
        try:
            self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "scout.local.sandbox_process", json.dumps(config)],
                cwd=self.spec.code_dir,
                env=environment,
                pass_fds=(child_read, child_write),
                stdin=subprocess.DEVNULL,
                stdout=capture,
                stderr=capture,
                # Its own session: Ctrl-C reaches the stack, which then stops workers in order.
                start_new_session=True,
            )
        finally:
            os.close(child_read)
            os.close(child_write)
        self._to_worker, self._from_worker = parent_write, parent_read
        if self._log_sink is not None:
            assert self._process.stdout is not None
            assert self._process.stderr is not None
            for stream in (self._process.stdout, self._process.stderr):
                pump = threading.Thread(target=self._pump, args=(stream,), daemon=True)
                pump.start()
                self._pumps.append(pump)
        init_timeout = timeout if timeout is not None else max(self.spec.timeout_seconds, 10) * 2
        try:
            message = receive_message(self._from_worker, init_timeout)
        except (PipeClosed, TimeoutError):
            self.stop()
            raise InitFailed(
                {
                    "errorType": "Runtime.InitError",
                    "errorMessage": "the worker exited during init",
                    "stackTrace": [],
                }
            ) from None
        if "init_error" in message:
            self.stop()
            raise InitFailed(message["init_error"])
        self.alive = True
        self.init_ms = float(message.get("init_ms", 0.0))
        return self.init_ms

    def invoke(self, event: Any, request_id: str) -> Invocation:
        if not self.alive:
            raise RuntimeError("invoke() on an environment that is not running")
        timeout = float(self.spec.timeout_seconds)
        started = time.monotonic()
        deadline_ms = int(time.time() * 1000 + timeout * 1000)
        try:
            send_message(
                self._to_worker, {"request_id": request_id, "event": event, "deadline_ms": deadline_ms}
            )
            reply = receive_message(self._from_worker, timeout + _TIMEOUT_SLACK_SECONDS)
        except TimeoutError:
            self.kill()
            message = f"{request_id} Task timed out after {timeout:.2f} seconds"
            error = {"errorType": "Sandbox.Timedout", "errorMessage": message, "stackTrace": []}
            return Invocation(request_id, error=error, duration_ms=_ms_since(started), timed_out=True)
        except (PipeClosed, OSError):
            code = self.kill()
            message = f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}"
            error = {"errorType": "Runtime.ExitError", "errorMessage": message, "stackTrace": []}
            return Invocation(request_id, error=error, duration_ms=_ms_since(started))
        payload_json = reply.get("payload_json")
        payload = json.loads(payload_json) if payload_json is not None else None
        return Invocation(
            request_id, payload=payload, error=reply.get("error"), duration_ms=_ms_since(started)
        )

    def stop(self, grace: float = _STOP_GRACE_SECONDS) -> None:
        """End the worker: end of file on its request pipe, then a kill if it lingers."""
        self.alive = False
        self._close_pipes()
        if self._process is not None:
            try:
                self._process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        for pump in self._pumps:
            pump.join(timeout=grace)

    def terminate(self) -> None:
        """Kill the process only; whoever is reading its pipe sees it exit."""
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()

    def kill(self) -> int | None:
        self.alive = False
        self._close_pipes()
        if self._process is None:
            return None
        with contextlib.suppress(ProcessLookupError):
            self._process.kill()
        return self._process.wait()

    def _close_pipes(self) -> None:
        for fd in (self._to_worker, self._from_worker):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._to_worker = self._from_worker = -1

    def _pump(self, stream: IO[bytes]) -> None:
        assert self._log_sink is not None
        with stream:
            for line in iter(stream.readline, b""):
                self._log_sink(f"[{self.spec.logical_id}] {line.decode('utf-8', 'replace').rstrip()}")


@dataclass
class FunctionPool:
    """The warm environments of one function; each serves one invocation at a time."""

    spec: FunctionSpec
    variables: dict[str, str]
    identity: RuntimeIdentity
    max_environments: int = 2
    log_sink: LogSink | None = None
    last_init_error: dict[str, Any] | None = field(default=None, init=False)
    _idle: list[ExecutionEnvironment] = field(default_factory=list, init=False)
    _all: set[ExecutionEnvironment] = field(default_factory=set, init=False)
    _starting: int = field(default=0, init=False)
    _closed: bool = field(default=False, init=False)
    _condition: threading.Condition = field(default_factory=threading.Condition, init=False)

    def prewarm(self) -> InitFailed | None:
        """Start one environment now, so the first request is warm; the init error, if any."""
        try:
            environment = self._start_environment()
        except InitFailed as exc:
            return exc
        self._release(environment)
        return None

    def invoke(self, event: Any, request_id: str | None = None) -> Invocation:
        request_id = request_id or str(uuid.uuid4())
        environment, cold = self._acquire()
        if environment is None:
            return Invocation(request_id, error=self.last_init_error, cold=True)
        try:
            result = environment.invoke(event, request_id)
        finally:
            self._release(environment)
        return replace(result, cold=True, init_ms=environment.init_ms) if cold else result

    def environment_count(self) -> int:
        with self._condition:
            return len(self._all)

    def close(self, drain_seconds: float = 0.0) -> None:
        """Stop taking invocations, let running ones finish (up to ``drain_seconds``), stop all."""
        deadline = time.monotonic() + drain_seconds
        with self._condition:
            self._closed = True
            self._condition.notify_all()
            while len(self._all) > len(self._idle):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._condition.wait(remaining)
            idle, busy = list(self._idle), [env for env in self._all if env not in self._idle]
            self._idle.clear()
            self._all.difference_update(idle)
        for environment in idle:
            environment.stop()
        # Past the drain: end the process; the invoking thread sees the exit and cleans up.
        for environment in busy:
            environment.terminate()

    def _acquire(self) -> tuple[ExecutionEnvironment | None, bool]:
        with self._condition:
            while True:
                if self._closed:
                    raise PoolClosed(self.spec.logical_id)
                if self._idle:
                    return self._idle.pop(), False
                if len(self._all) + self._starting < self.max_environments:
                    break
                self._condition.wait()
        try:
            return self._start_environment(), True
        except InitFailed as exc:
            self.last_init_error = exc.error
            return None, True

    def _start_environment(self) -> ExecutionEnvironment:
        with self._condition:
            self._starting += 1
        environment = ExecutionEnvironment(self.spec, self.variables, self.identity, self.log_sink)
        try:
            environment.start()
        except InitFailed as exc:
            self.last_init_error = exc.error
            raise
        finally:
            with self._condition:
                self._starting -= 1
                self._condition.notify_all()
        with self._condition:
            self._all.add(environment)
        return environment

    def _release(self, environment: ExecutionEnvironment) -> None:
        with self._condition:
            keep = environment.alive and not self._closed
            if keep:
                self._idle.append(environment)
            else:
                self._all.discard(environment)
            self._condition.notify_all()
        if not keep:
            environment.stop()


def _ms_since(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)
