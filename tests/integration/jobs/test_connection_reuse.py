"""Error answers do not cost a connection: their short bodies are read so the connection is reused."""

from __future__ import annotations

import pytest

from scout.errors import AtsNotFound
from scout.jobs.boards import fetch_board
from tests.integration.jobs.serving import quick_policy, serving
from tests.support.ats_payloads import greenhouse_job
from tests.support.fake_ats import FakeAts
from tests.support.http_server import Fault


def boards() -> FakeAts:
    return FakeAts(
        greenhouse={board: [greenhouse_job(n, board) for n in range(3)] for board in ("acme", "beta")}
    )


async def test_a_gone_board_leaves_its_connection_to_the_next_board() -> None:
    async with serving(boards()) as env:
        # Given a board that is gone (404 with a JSON body)
        with pytest.raises(AtsNotFound):
            await fetch_board(
                "greenhouse", "gone", client=env.client, settings=env.settings, policy=quick_policy()
            )

        # When the next board on the same host is fetched
        result = await fetch_board(
            "greenhouse", "acme", client=env.client, settings=env.settings, policy=quick_policy()
        )

        # Then both requests went over one connection
        assert result.complete
        assert len(env.server.stats.requests) == 2
        assert env.server.stats.connections == 1


async def test_a_retried_server_error_is_retried_on_the_same_connection() -> None:
    async with serving(boards()) as env:
        # Given the ATS answers 503 with a short page once
        env.server.inject(Fault(path="^/v1/boards/beta/jobs$", status=503, body=b"<h1>Try again</h1>"))

        # When the board is fetched (and retried)
        result = await fetch_board(
            "greenhouse", "beta", client=env.client, settings=env.settings, policy=quick_policy()
        )

        # Then the retry reused the connection of the failed attempt
        assert result.complete
        assert len(env.server.stats.requests) == 2
        assert env.server.stats.connections == 1
