"""The pooled HTTP client survives warm invocations (one loop per environment: docs/architecture.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from scout import runtime
from tests.support.http_server import LoopbackServer, Request, Response, run_in_thread

WARM_INVOCATIONS = 30


async def answer_ok(_: Request) -> Response:
    return Response.json({"ok": True})


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    # In its own thread and loop: the handlers under test run the process loop themselves.
    with run_in_thread(LoopbackServer(answer_ok)) as server:
        yield server


async def fetch_status(url: str) -> int:
    response = await runtime.http_client().get(url)
    return response.status_code


def handler_on_the_persistent_loop(url: str) -> int:
    return runtime.run(fetch_status(url))


def test_pooled_client_survives_many_warm_invocations(server: LoopbackServer) -> None:
    # Given a fresh execution environment's client slot
    runtime.run(runtime.http_client_slot.aclose())
    created_before = runtime.http_client_slot.created
    # When the handler is invoked many times in one process
    statuses = [handler_on_the_persistent_loop(server.url) for _ in range(WARM_INVOCATIONS)]
    # Then every call succeeds on one client and one kept-alive connection
    assert statuses == [200] * WARM_INVOCATIONS
    assert runtime.http_client_slot.created - created_before == 1
    assert server.stats.connections == 1
    assert len(server.stats.requests) == WARM_INVOCATIONS


def test_closed_client_is_replaced_before_reuse(server: LoopbackServer) -> None:
    # Given a pooled client that something closed
    runtime.run(fetch_status(server.url))
    first = runtime.http_client()
    runtime.run(first.aclose())
    # When the next invocation asks for the client
    assert handler_on_the_persistent_loop(server.url) == 200
    # Then it got a new, open one
    assert runtime.http_client() is not first
    assert not runtime.http_client().is_closed


def test_asyncio_run_per_invocation_breaks_the_pooled_client(server: LoopbackServer) -> None:
    # Given the anti-pattern: a module-level client and a new loop per invocation
    client = httpx.AsyncClient()

    def handler_with_a_new_loop_each_time() -> int:
        async def call() -> int:
            return (await client.get(server.url)).status_code

        return asyncio.run(call())

    # When it is invoked warm, the first call works...
    assert handler_with_a_new_loop_each_time() == 200
    # ...and the next one fails on the kept-alive connection bound to the closed loop
    with pytest.raises(RuntimeError, match=r"Event loop is closed|attached to a different loop"):
        handler_with_a_new_loop_each_time()
