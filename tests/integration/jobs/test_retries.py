"""Retries: 429 and 5xx and transport errors are retried with backoff; other 4xx are not."""

from __future__ import annotations

import pytest

from scout.errors import AtsBadResponse, AtsNotFound, AtsRateLimited, AtsTimeout, AtsUnavailable
from scout.jobs.boards import fetch_board
from tests.integration.jobs.serving import RecordedSleep, quick_policy, serving
from tests.support.ats_payloads import greenhouse_job, lever_posting
from tests.support.fake_ats import FakeAts
from tests.support.http_server import Fault

BOARD_PATH = "^/v1/boards/acme/jobs$"


def greenhouse_board() -> FakeAts:
    return FakeAts(greenhouse={"acme": [greenhouse_job(n) for n in range(3)]})


async def test_rate_limited_request_waits_as_long_as_retry_after_says_then_succeeds() -> None:
    sleep = RecordedSleep()
    async with serving(greenhouse_board()) as env:
        # Given the ATS answers 429 with Retry-After: 7 once
        env.server.inject(Fault(path=BOARD_PATH, status=429, headers={"Retry-After": "7"}))

        # When the board is fetched
        result = await fetch_board(
            "greenhouse", "acme", client=env.client, settings=env.settings, policy=quick_policy(sleep=sleep)
        )

        # Then the retry waited the 7 seconds asked for, and the fetch is complete
        assert sleep.delays == [7.0]
        assert result.complete
        assert len(env.server.stats.requests) == 2


async def test_a_huge_retry_after_is_clamped() -> None:
    sleep = RecordedSleep()
    async with serving(greenhouse_board()) as env:
        env.server.inject(Fault(path=BOARD_PATH, status=429, headers={"Retry-After": "86400"}))
        await fetch_board(
            "greenhouse",
            "acme",
            client=env.client,
            settings=env.settings,
            policy=quick_policy(sleep=sleep, retry_after_max_seconds=12.0),
        )
        assert sleep.delays == [12.0]


async def test_server_errors_are_retried_with_jittered_exponential_backoff() -> None:
    sleep = RecordedSleep()
    ceilings: list[float] = []

    def jitter(low: float, high: float) -> float:
        ceilings.append(high)
        return high / 2

    async with serving(greenhouse_board()) as env:
        # Given two 503s without Retry-After, then success
        env.server.inject(Fault(path=BOARD_PATH, status=503, times=2))

        result = await fetch_board(
            "greenhouse",
            "acme",
            client=env.client,
            settings=env.settings,
            policy=quick_policy(
                sleep=sleep, jitter=jitter, attempts=4, backoff_base_seconds=1.0, backoff_max_seconds=10.0
            ),
        )

        # Then each wait was drawn from zero up to a doubling ceiling
        assert result.complete
        assert ceilings == [1.0, 2.0]
        assert sleep.delays == [0.5, 1.0]


async def test_persistent_server_errors_fail_as_unavailable_after_the_last_attempt() -> None:
    async with serving(greenhouse_board()) as env:
        env.server.inject(Fault(path=BOARD_PATH, status=502, times=10))
        with pytest.raises(AtsUnavailable) as raised:
            await fetch_board(
                "greenhouse",
                "acme",
                client=env.client,
                settings=env.settings,
                policy=quick_policy(attempts=3),
            )
        assert raised.value.code == "ats_unavailable"
        assert len(env.server.stats.requests) == 3


async def test_persistent_rate_limiting_fails_as_rate_limited() -> None:
    async with serving(greenhouse_board()) as env:
        env.server.inject(Fault(path=BOARD_PATH, status=429, headers={"Retry-After": "1"}, times=10))
        with pytest.raises(AtsRateLimited) as raised:
            await fetch_board(
                "greenhouse",
                "acme",
                client=env.client,
                settings=env.settings,
                policy=quick_policy(attempts=2),
            )
        assert raised.value.code == "ats_rate_limited"
        assert raised.value.retry_after_seconds == 1.0


@pytest.mark.parametrize("status", [400, 401, 403, 422])
async def test_other_client_errors_are_not_retried(status: int) -> None:
    async with serving(greenhouse_board()) as env:
        env.server.inject(Fault(path=BOARD_PATH, status=status, times=10))
        with pytest.raises(AtsBadResponse):
            await fetch_board(
                "greenhouse", "acme", client=env.client, settings=env.settings, policy=quick_policy()
            )
        assert len(env.server.stats.requests) == 1


async def test_an_unknown_board_is_not_found_without_retrying() -> None:
    async with serving(greenhouse_board()) as env:
        with pytest.raises(AtsNotFound) as raised:
            await fetch_board(
                "greenhouse", "nope", client=env.client, settings=env.settings, policy=quick_policy()
            )
        assert raised.value.code == "ats_not_found"
        assert len(env.server.stats.requests) == 1


async def test_a_dropped_connection_is_retried() -> None:
    async with serving(greenhouse_board()) as env:
        # Given the connection drops halfway through the first answer
        env.server.inject(Fault(path=BOARD_PATH, kind="drop", keep=30))
        result = await fetch_board(
            "greenhouse", "acme", client=env.client, settings=env.settings, policy=quick_policy()
        )
        assert result.complete
        assert len(env.server.stats.requests) == 2


async def test_a_stalled_answer_times_out_after_every_attempt() -> None:
    async with serving(greenhouse_board()) as env:
        env.server.inject(Fault(path=BOARD_PATH, kind="stall", seconds=2.0, times=10))
        with pytest.raises(AtsTimeout) as raised:
            await fetch_board(
                "greenhouse",
                "acme",
                client=env.client,
                settings=env.settings,
                policy=quick_policy(attempts=2, timeout_seconds=0.1),
            )
        assert raised.value.code == "ats_timeout"
        assert len(env.server.stats.requests) == 2


async def test_read_timeouts_are_per_kind() -> None:
    # Given Ashby and Lever both answering slowly, and a longer read timeout for Ashby only
    fake = FakeAts(ashby={"acme": []}, lever={"acme": [lever_posting(1)]})
    policy = quick_policy(attempts=1, timeout_seconds=0.1, read_timeout_seconds={"ashby": 10.0})
    async with serving(fake) as env:
        env.server.inject(Fault(path="^/posting-api/", kind="stall", seconds=0.5))
        env.server.inject(Fault(path="^/v0/postings/", kind="stall", seconds=0.5))

        # Then Ashby's answer is waited for and Lever's is not
        result = await fetch_board("ashby", "acme", client=env.client, settings=env.settings, policy=policy)
        assert result.complete
        with pytest.raises(AtsTimeout):
            await fetch_board("lever", "acme", client=env.client, settings=env.settings, policy=policy)


async def test_a_page_failing_midway_fails_the_whole_fetch() -> None:
    # Given page two of a Lever site keeps failing
    fake = FakeAts(lever={"acme": [lever_posting(n) for n in range(150)]})
    async with serving(fake) as env:
        env.server.inject(Fault(path="^/v0/postings/acme$", query={"skip": "100"}, status=500, times=10))

        # Then the fetch raises: a short list must never pass for the whole board
        with pytest.raises(AtsUnavailable):
            await fetch_board(
                "lever", "acme", client=env.client, settings=env.settings, policy=quick_policy()
            )
        assert [r.param("skip") for r in env.server.stats.requests] == ["0", "100", "100", "100"]
