"""The Runtime API emulator speaks Lambda's protocol: by hand, and to the real awslambdaric."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.image.runtime_api import API_PREFIX, MAX_RESPONSE_BYTES, Invocation, LambdaRuntimeApi, RuntimeGone


@pytest.fixture
def api() -> Iterator[LambdaRuntimeApi]:
    with LambdaRuntimeApi(function_name="ScanWorkerFunction", timeout_seconds=180) as runtime_api:
        yield runtime_api


@pytest.fixture
def client(api: LambdaRuntimeApi) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://{api.address}{API_PREFIX}", timeout=10) as http:
        yield http


def invoke_later(api: LambdaRuntimeApi, event: Any) -> Future[Invocation]:
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(api.invoke, event, timeout=10)
    pool.shutdown(wait=False)
    return future


def test_next_hands_over_the_event_with_lambdas_headers(api: LambdaRuntimeApi, client: httpx.Client) -> None:
    # Given an invocation waiting for the runtime
    started = time.time()
    pending = invoke_later(api, {"Records": [{"body": "{}"}]})
    # When the runtime asks for the next event
    event = client.get("/invocation/next")
    # Then it gets the event and the headers a runtime client reads
    assert event.status_code == 200
    assert event.json() == {"Records": [{"body": "{}"}]}
    assert event.headers["Lambda-Runtime-Invoked-Function-Arn"].endswith(":function:ScanWorkerFunction")
    assert event.headers["Lambda-Runtime-Trace-Id"].startswith("Root=1-")
    deadline = int(event.headers["Lambda-Runtime-Deadline-Ms"]) / 1000
    assert started + 179 < deadline < time.time() + 181
    request_id = event.headers["Lambda-Runtime-Aws-Request-Id"]
    assert client.post(f"/invocation/{request_id}/response", json={"ok": True}).status_code == 202
    assert pending.result(timeout=10).result() == {"ok": True}


def test_an_error_answer_is_kept_with_its_error_type(api: LambdaRuntimeApi, client: httpx.Client) -> None:
    # Given a delivered invocation
    pending = invoke_later(api, {})
    request_id = client.get("/invocation/next").headers["Lambda-Runtime-Aws-Request-Id"]
    # When the runtime reports the handler's exception
    error = {"errorMessage": "boom", "errorType": "ValueError", "stackTrace": []}
    answer = client.post(
        f"/invocation/{request_id}/error",
        json=error,
        headers={"Lambda-Runtime-Function-Error-Type": "Unhandled"},
    )
    # Then the invocation failed with that error
    assert answer.status_code == 202
    invocation = pending.result(timeout=10)
    assert not invocation.succeeded
    assert (invocation.error, invocation.error_type) == (error, "Unhandled")
    with pytest.raises(AssertionError, match="boom"):
        invocation.result()


def test_an_answer_for_an_unknown_or_answered_request_is_refused(
    api: LambdaRuntimeApi, client: httpx.Client
) -> None:
    # Given an invocation that has been answered
    pending = invoke_later(api, {})
    request_id = client.get("/invocation/next").headers["Lambda-Runtime-Aws-Request-Id"]
    client.post(f"/invocation/{request_id}/response", json=1)
    pending.result(timeout=10)
    # When the runtime answers it again, or answers an id it was never given
    again = client.post(f"/invocation/{request_id}/response", json=2)
    unknown = client.post("/invocation/not-a-request/error", json={})
    # Then both are 400 InvalidRequestID
    assert (again.status_code, again.json()["errorType"]) == (400, "InvalidRequestID")
    assert (unknown.status_code, unknown.json()["errorType"]) == (400, "InvalidRequestID")


def test_a_response_above_six_megabytes_fails_the_invocation(
    api: LambdaRuntimeApi, client: httpx.Client
) -> None:
    pending = invoke_later(api, {})
    request_id = client.get("/invocation/next").headers["Lambda-Runtime-Aws-Request-Id"]
    answer = client.post(f"/invocation/{request_id}/response", content=b"x" * (MAX_RESPONSE_BYTES + 1))
    assert answer.status_code == 413
    assert pending.result(timeout=10).error_type == "Function.ResponseSizeTooLarge"


def test_an_init_error_ends_the_wait_for_init(api: LambdaRuntimeApi, client: httpx.Client) -> None:
    # Given a runtime whose handler failed to import
    error = {"errorMessage": "No module named 'app'", "errorType": "Runtime.ImportModuleError"}
    # When it reports the init error
    answer = client.post(
        "/init/error", json=error, headers={"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"}
    )
    # Then waiting for init raises with the error, instead of waiting out the timeout
    assert answer.status_code == 202
    with pytest.raises(RuntimeGone, match="ImportModuleError"):
        api.wait_for_init(timeout=10)


def test_an_init_error_after_init_has_finished_is_refused(
    api: LambdaRuntimeApi, client: httpx.Client
) -> None:
    pending = invoke_later(api, {})
    client.get("/invocation/next")
    answer = client.post("/init/error", json={"errorMessage": "late"})
    assert (answer.status_code, answer.json()["errorType"]) == (403, "InvalidStateTransition")
    assert api.wait_for_init(timeout=1) >= 0
    del pending


def test_a_runtime_that_exits_ends_the_wait_for_its_answer(
    api: LambdaRuntimeApi, client: httpx.Client
) -> None:
    # Given a delivered invocation whose process then dies
    alive = threading.Event()
    alive.set()
    pool = ThreadPoolExecutor(max_workers=1)
    pending = pool.submit(api.invoke, {}, timeout=30, alive=alive.is_set)
    client.get("/invocation/next")
    started = time.monotonic()
    alive.clear()
    # Then the waiter gives up at once rather than after its timeout
    with pytest.raises(RuntimeGone, match="stopped before answering"):
        pending.result(timeout=10)
    assert time.monotonic() - started < 5
    pool.shutdown()


# ---- the real runtime interface client --------------------------------------------------------

HANDLERS = """
import os

calls = 0


def handler(event, context):
    global calls
    calls += 1
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"calls": calls, "request_id": context.aws_request_id,
            "remaining_ms": context.get_remaining_time_in_millis(), "echo": event}
"""


def start_awslambdaric(api: LambdaRuntimeApi, task_root: Path, handler: str) -> subprocess.Popen[bytes]:
    environment = {
        "AWS_LAMBDA_RUNTIME_API": api.address,
        "LAMBDA_TASK_ROOT": str(task_root),
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "awslambdaric", handler],
        cwd=task_root,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


@pytest.fixture
def task_root(tmp_path: Path) -> Path:
    (tmp_path / "handlers.py").write_text(textwrap.dedent(HANDLERS))
    return tmp_path


def test_awslambdaric_serves_warm_invocations_and_reports_a_failing_one(
    api: LambdaRuntimeApi, task_root: Path
) -> None:
    # Given awslambdaric running a handler module against the emulator
    process = start_awslambdaric(api, task_root, "handlers.handler")
    try:
        alive = lambda: process.poll() is None  # noqa: E731
        assert api.wait_for_init(timeout=60, alive=alive) > 0
        # When it gets two events, then one that makes the handler raise
        first = api.invoke({"n": 1}, timeout=30, alive=alive)
        second = api.invoke({"n": 2}, timeout=30, alive=alive)
        failing = api.invoke({"fail": True}, timeout=30, alive=alive)
        # Then the same process answered both (warm), with the context Lambda would give
        assert first.result()["calls"] == 1
        assert second.result() == {
            "calls": 2,
            "request_id": second.request_id,
            "remaining_ms": second.result()["remaining_ms"],
            "echo": {"n": 2},
        }
        assert 170_000 < second.result()["remaining_ms"] <= 180_000
        # And the exception came back as the function's error
        assert failing.error is not None
        assert (failing.error["errorType"], failing.error["errorMessage"]) == ("ValueError", "asked to fail")
    finally:
        process.kill()
        process.wait(timeout=10)


def test_awslambdaric_reports_a_handler_that_cannot_import_as_an_init_error(
    api: LambdaRuntimeApi, task_root: Path
) -> None:
    # Given a handler name whose module does not exist
    process = start_awslambdaric(api, task_root, "missing_module.handler")
    try:
        # When the runtime starts, then waiting for init fails with the import error
        with pytest.raises(RuntimeGone, match="ImportModuleError"):
            api.wait_for_init(timeout=60, alive=lambda: process.poll() is None)
    finally:
        process.kill()
        process.wait(timeout=10)
