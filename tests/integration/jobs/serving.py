"""Running adapters against a fake ATS on 127.0.0.1, with retries made instant."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from scout.jobs.fetching import ConcurrencyLimits, FetchPolicy
from scout.settings import Settings
from tests.support.fake_ats import FakeAts, settings_for
from tests.support.http_server import LoopbackServer


class RecordedSleep:
    """Stands in for asyncio.sleep between retries: records the delay, yields, returns."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


def quick_policy(**overrides: Any) -> FetchPolicy:
    options: dict[str, Any] = {
        "attempts": 3,
        "backoff_base_seconds": 0.001,
        "backoff_max_seconds": 0.002,
        "retry_after_max_seconds": 30.0,
        "timeout_seconds": 5.0,
        "limits": ConcurrencyLimits(per_host=8, total=20),
        "sleep": RecordedSleep(),
    }
    options.update(overrides)
    return FetchPolicy(**options)


@dataclass
class Serving:
    server: LoopbackServer
    settings: Settings
    client: httpx.AsyncClient

    @property
    def url(self) -> str:
        return self.server.url


@asynccontextmanager
async def serving(fake: FakeAts, **server_options: Any) -> AsyncIterator[Serving]:
    async with fake.server(**server_options) as server, httpx.AsyncClient() as client:
        yield Serving(server, settings_for(server.url), client)
