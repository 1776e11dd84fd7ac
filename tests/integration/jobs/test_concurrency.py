"""Many boards fetched at once really overlap, within the per-host cap, on reused connections."""

from __future__ import annotations

import asyncio

import httpx

from scout.jobs.boards import fetch_board
from scout.jobs.fetching import ConcurrencyLimits
from tests.integration.jobs.serving import quick_policy, serving
from tests.support.ats_payloads import greenhouse_job
from tests.support.fake_ats import FakeAts
from tests.support.http_server import ServerStats

BOARDS = [f"company{n}" for n in range(6)]


def many_boards() -> FakeAts:
    return FakeAts(greenhouse={board: [greenhouse_job(n, board) for n in range(2)] for board in BOARDS})


async def test_concurrent_fetches_are_in_flight_together() -> None:
    # Given a server that holds every request until six are in flight at once (or gives up)
    async with serving(many_boards(), hold_until_in_flight=len(BOARDS)) as env:
        policy = quick_policy(limits=ConcurrencyLimits(per_host=len(BOARDS), total=20))

        # When six boards are fetched concurrently
        results = await asyncio.gather(
            *(
                fetch_board("greenhouse", board, client=env.client, settings=env.settings, policy=policy)
                for board in BOARDS
            )
        )

        # Then all six requests were in flight at the same time
        assert env.server.stats.max_in_flight == len(BOARDS)
        assert all(result.complete for result in results)


async def test_requests_to_one_host_never_exceed_the_per_host_cap() -> None:
    # Given a cap of two requests per host, and a server that waits for two to overlap
    async with serving(many_boards(), hold_until_in_flight=2, latency=0.01) as env:
        policy = quick_policy(limits=ConcurrencyLimits(per_host=2, total=20))

        # When six boards on that host are fetched concurrently
        await asyncio.gather(
            *(
                fetch_board("greenhouse", board, client=env.client, settings=env.settings, policy=policy)
                for board in BOARDS
            )
        )

        # Then exactly two were ever in flight together
        assert env.server.stats.max_in_flight == 2
        assert len(env.server.stats.requests) == len(BOARDS)


async def test_the_overall_cap_applies_across_hosts() -> None:
    # Given two ATS hosts whose requests are counted together, each answering slowly
    shared = ServerStats()
    async with (
        serving(many_boards(), latency=0.05, stats=shared) as first,
        serving(many_boards(), latency=0.05, stats=shared) as second,
    ):
        policy = quick_policy(limits=ConcurrencyLimits(per_host=10, total=3))

        # When twelve boards across both hosts are fetched concurrently
        results = await asyncio.gather(
            *(
                fetch_board("greenhouse", board, client=first.client, settings=env.settings, policy=policy)
                for env in (first, second)
                for board in BOARDS
            )
        )

        # Then never more than three requests were in flight overall
        assert all(result.complete for result in results)
        assert len(shared.requests) == 12
        assert shared.max_in_flight <= 3


async def test_sequential_fetches_reuse_one_keep_alive_connection() -> None:
    async with serving(many_boards()) as env:
        for board in BOARDS:
            await fetch_board(
                "greenhouse", board, client=env.client, settings=env.settings, policy=quick_policy()
            )
        assert len(env.server.stats.requests) == len(BOARDS)
        assert env.server.stats.connections == 1


async def test_a_host_left_with_work_takes_over_connections_idle_elsewhere() -> None:
    # Given every connection of a poll granted: three to a host done with its work, one to another
    async with (
        serving(many_boards(), latency=0.05) as early,
        serving(many_boards(), latency=0.2) as late,
    ):
        policy = quick_policy(limits=ConcurrencyLimits(per_host=3, total=4))
        await asyncio.gather(
            *(
                fetch_board("greenhouse", board, client=early.client, settings=early.settings, policy=policy)
                for board in BOARDS[:3]
            ),
            fetch_board("greenhouse", BOARDS[0], client=late.client, settings=late.settings, policy=policy),
        )
        assert late.server.stats.max_in_flight == 1

        # When the other host then gets six boards at once, the first host idle
        results = await asyncio.gather(
            *(
                fetch_board("greenhouse", board, client=late.client, settings=late.settings, policy=policy)
                for board in BOARDS
            )
        )

        # Then it uses its whole per-host cap, not just the one connection it held
        assert all(result.complete for result in results)
        assert late.server.stats.max_in_flight == 3
        # And the connections it took over were closed at the first host: never more than 4 open
        assert open_connections(early.client) + open_connections(late.client) <= 4
        assert open_connections(early.client) == 1


def open_connections(client: httpx.AsyncClient) -> int:
    pool = client._transport._pool  # type: ignore[attr-defined]  # httpcore pool
    return sum(not connection.is_closed() for connection in pool.connections)
