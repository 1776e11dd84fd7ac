"""Warm execution environments: one import, one invocation at a time, Lambda's failure modes."""

from __future__ import annotations

import threading

from tests.integration.local.conftest import PoolFactory
from tests.support.http_events import http_event
from tests.support.local_stack import eventually


def test_the_module_is_imported_once_and_stays_warm(make_pool: PoolFactory) -> None:
    # Given a function whose module counts its invocations
    pool = make_pool("CounterFunction")
    assert pool.prewarm() is None
    # When it is invoked three times
    results = [pool.invoke({"n": number}) for number in range(3)]
    # Then one process served them all from one import
    assert [result.payload["invocations"] for result in results] == [1, 2, 3]
    assert len({result.payload["pid"] for result in results}) == 1
    assert results[0].payload["imported_in_pid"] == results[0].payload["pid"]
    assert not any(result.cold for result in results)


def test_the_handler_gets_a_lambda_context(make_pool: PoolFactory) -> None:
    pool = make_pool("CounterFunction")
    result = pool.invoke({}, request_id="req-42")
    assert result.payload["function_name"] == "CounterFunction"
    assert result.payload["request_id"] == "req-42"
    assert 0 < result.payload["remaining_ms"] <= 3000  # the function's Timeout is 3 s
    assert result.payload["environment"]["AWS_LAMBDA_FUNCTION_NAME"] == "CounterFunction"


def test_an_exception_becomes_lambdas_error_object_and_the_environment_stays(make_pool: PoolFactory) -> None:
    pool = make_pool("EchoFunction")
    failed = pool.invoke(http_event("GET", "/boom"))
    assert not failed.ok
    assert failed.error is not None
    assert failed.error["errorType"] == "ValueError"
    assert failed.error["errorMessage"] == "boom on purpose"
    assert failed.error["stackTrace"]
    assert pool.invoke(http_event("GET", "/echo/x")).ok
    assert pool.environment_count() == 1


def test_a_timed_out_invocation_discards_its_environment(make_pool: PoolFactory) -> None:
    # Given a warm environment of a function with a 2 s timeout
    pool = make_pool("EchoFunction")
    first = pool.invoke(http_event("GET", "/echo/a"))
    # When an invocation runs past the timeout
    slow = pool.invoke(http_event("GET", "/slow"))
    # Then it fails as a timeout, and the next invocation gets a fresh (cold) environment
    assert slow.timed_out
    assert slow.error is not None
    assert "Task timed out after 2.00 seconds" in slow.error["errorMessage"]
    after = pool.invoke(http_event("GET", "/echo/b"))
    assert after.ok
    assert after.cold
    assert first.payload is not None


def test_a_failed_init_is_reported_and_retried(make_pool: PoolFactory) -> None:
    # Given a scout function started without ALLOWED_HOSTS (it refuses to start, by design)
    pool = make_pool("WhoAmIFunction", dev_defaults={})
    # When it is warmed and then invoked
    init_error = pool.prewarm()
    result = pool.invoke(http_event("GET", "/whoami"))
    # Then the init error names the setting, and each invocation retries the init
    assert init_error is not None
    assert "ALLOWED_HOSTS" in str(init_error)
    assert result.error is not None
    assert result.error["errorType"] == "RuntimeError"
    assert pool.environment_count() == 0


def test_concurrent_invocations_get_more_environments_up_to_the_limit(make_pool: PoolFactory) -> None:
    # Given a pool allowed two environments
    pool = make_pool("CounterFunction", max_environments=2)
    pids: list[int] = []

    def call() -> None:
        result = pool.invoke({})
        pids.append(result.payload["pid"])

    # When six invocations arrive at once
    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Then all are served, by no more than two environments
    assert len(pids) == 6
    assert 1 <= len(set(pids)) <= 2
    assert pool.environment_count() <= 2


def test_function_output_reaches_the_log_with_its_name(make_pool: PoolFactory) -> None:
    lines: list[str] = []
    pool = make_pool("WhoAmIFunction", dev_defaults={}, lines=lines)
    pool.prewarm()
    eventually(
        lambda: any(line.startswith("[WhoAmIFunction] ") and "ALLOWED_HOSTS" in line for line in lines), 10
    )


def test_closing_the_pool_ends_its_processes(make_pool: PoolFactory) -> None:
    pool = make_pool("CounterFunction")
    pid = pool.invoke({}).payload["pid"]
    pool.close()
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
