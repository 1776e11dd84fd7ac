"""Shared request behaviour: Retry-After, strict JSON decoding, backoff, offset paging."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest

from scout.errors import AtsBadResponse
from scout.jobs.fetching import (
    ConcurrencyLimits,
    Fetched,
    FetchPolicy,
    Page,
    collect_offset_pages,
    decode_json,
    parse_retry_after,
)
from scout.jobs.results import FetchResultBuilder


def fetched(body: bytes, content_type: str = "application/json") -> Fetched:
    return Fetched(
        url="https://ats.test/jobs?x=1", status=200, content_type=content_type, content=body, encoding=None
    )


@pytest.mark.parametrize(
    ("header", "expected"), [("2", 2.0), ("0.5", 0.5), ("0", 0.0), (None, None), ("soon", None)]
)
def test_retry_after_seconds_are_read(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, 30.0) == expected


def test_retry_after_is_clamped_to_the_policy_maximum() -> None:
    assert parse_retry_after("3600", 30.0) == 30.0


def test_retry_after_as_an_http_date_counts_from_now() -> None:
    now = datetime(2024, 6, 12, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Wed, 12 Jun 2024 12:00:05 GMT", 30.0, now=now) == 5.0
    assert parse_retry_after("Wed, 12 Jun 2024 11:00:00 GMT", 30.0, now=now) == 0.0


def test_backoff_uses_full_jitter_below_an_exponential_ceiling() -> None:
    ceilings: list[float] = []
    policy = FetchPolicy(
        backoff_base_seconds=0.5,
        backoff_max_seconds=3.0,
        jitter=lambda low, high: ceilings.append(high) or high,
    )
    assert [policy.backoff(attempt) for attempt in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 3.0]


def test_json_bodies_decode() -> None:
    assert decode_json(fetched(b' {"jobs": []}'), "greenhouse") == {"jobs": []}


def test_html_instead_of_json_is_a_bad_response() -> None:
    with pytest.raises(AtsBadResponse, match="HTML"):
        decode_json(fetched(b"<!DOCTYPE html><html>Maintenance</html>", "text/html"), "greenhouse")


def test_truncated_json_is_a_bad_response() -> None:
    with pytest.raises(AtsBadResponse, match="broken JSON"):
        decode_json(fetched(b'{"jobs": [{"id": 1, "tit'), "greenhouse")


def test_an_empty_body_is_a_bad_response() -> None:
    with pytest.raises(AtsBadResponse, match="empty"):
        decode_json(fetched(b""), "greenhouse")


def pages_of(
    listing: list[dict[str, str]], size: int, *, total: int | None
) -> Callable[[int], Awaitable[Page]]:
    async def page_at(offset: int) -> Page:
        return Page(items=listing[offset : offset + size], total=total)

    return page_at


def items(count: int) -> list[dict[str, str]]:
    return [{"id": str(n)} for n in range(count)]


async def collect(
    page_at: Callable[[int], Awaitable[Page]], size: int, **options: object
) -> tuple[list, object]:
    builder = FetchResultBuilder("lever", "acme")
    got = await collect_offset_pages(
        page_at, page_size=size, key=lambda item: item["id"], builder=builder, max_pages=50, **options
    )
    builder.add_each([], lambda raw: None)
    return got, builder.result()


async def test_paging_without_a_total_stops_at_the_first_short_page() -> None:
    got, result = await collect(pages_of(items(25), 10, total=None), 10)
    assert len(got) == 25
    assert result.complete
    assert result.pages == 3


async def test_paging_a_board_that_fills_its_last_page_exactly_reads_one_empty_page() -> None:
    got, result = await collect(pages_of(items(20), 10, total=None), 10)
    assert len(got) == 20
    assert result.complete
    assert result.pages == 3


async def test_paging_with_a_total_stops_at_the_total() -> None:
    got, result = await collect(pages_of(items(20), 10, total=20), 10)
    assert len(got) == 20
    assert result.complete
    assert result.pages == 2
    assert result.reported_total == 20


async def test_a_server_capping_its_page_size_is_still_paged_to_the_total() -> None:
    # Given pages of 10 asked for, but the server sends at most 4
    got, result = await collect(pages_of(items(10), 4, total=10), 10)
    assert len(got) == 10
    assert result.complete
    assert result.pages == 3


async def test_fewer_postings_than_the_total_is_incomplete() -> None:
    got, result = await collect(pages_of(items(15), 10, total=18), 10)
    assert len(got) == 15
    assert not result.complete
    assert any("reports 18" in warning for warning in result.warnings)


async def test_a_page_repeating_earlier_postings_stops_paging_and_is_incomplete() -> None:
    # Given a listing that answers page one again past offset 20 (a clamp)
    listing = items(30)

    async def clamped(offset: int) -> Page:
        start = 0 if offset >= 20 else offset
        return Page(items=listing[start : start + 10], total=30)

    # When paging it
    got, result = await collect(clamped, 10)

    # Then only the real pages are kept, and the fetch is not complete
    assert len(got) == 20
    assert not result.complete
    assert any("repeats postings" in warning for warning in result.warnings)


async def test_a_total_that_changes_while_paging_is_incomplete() -> None:
    listing = items(15)

    async def shifting(offset: int) -> Page:
        return Page(items=listing[offset : offset + 10], total=15 if offset == 0 else 16)

    _, result = await collect(shifting, 10)
    assert not result.complete
    assert any("changed from 15 to 16" in warning for warning in result.warnings)


async def test_a_total_given_only_on_the_first_page_is_trusted_when_asked() -> None:
    listing = items(15)

    async def first_page_only(offset: int) -> Page:
        return Page(items=listing[offset : offset + 10], total=15 if offset == 0 else 0)

    got, result = await collect(first_page_only, 10, total_on_every_page=False)
    assert len(got) == 15
    assert result.complete


async def test_running_out_of_pages_is_incomplete() -> None:
    builder = FetchResultBuilder("lever", "acme")
    await collect_offset_pages(
        pages_of(items(100), 10, total=None),
        page_size=10,
        key=lambda item: item["id"],
        builder=builder,
        max_pages=3,
    )
    result = builder.result()
    assert not result.complete
    assert result.pages == 3


async def test_pages_after_the_first_are_requested_at_once_when_the_total_is_known() -> None:
    # Given a board of 45 items, 10 a page, whose first page states the total
    in_flight = 0
    most_in_flight = 0
    board = items(45)

    async def page_at(offset: int) -> Page:
        nonlocal in_flight, most_in_flight
        in_flight += 1
        most_in_flight = max(most_in_flight, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return Page(items=board[offset : offset + 10], total=45)

    # When it is collected with concurrent paging
    got, result = await collect(page_at, 10, concurrent_after_total=True)

    # Then the four remaining pages were in flight together and everything came back in order
    assert most_in_flight == 4
    assert [item["id"] for item in got] == [item["id"] for item in board]
    assert result.complete
    assert result.pages == 5


async def test_a_busy_host_never_starves_the_others_of_the_slots() -> None:
    # Given limits of 3 requests in flight (so 3 connections), 2 per host
    limits = ConcurrencyLimits(per_host=2, total=3)
    granted: list[str] = []
    in_flight: Counter[str] = Counter()
    most: Counter[str] = Counter()

    async def request(origin: str) -> None:
        async with limits.slot(origin):
            in_flight[origin] += 1
            most[origin] = max(most[origin], in_flight[origin])
            most["all"] = max(most["all"], sum(in_flight.values()))
            granted.append(origin)
            await asyncio.sleep(0.001)
            in_flight[origin] -= 1

    # When ten requests to one host and two to each of two others arrive at once
    await asyncio.gather(*(request(origin) for origin in ["a"] * 10 + ["b", "b", "c", "c"]))

    # Then every request was served, within both caps, and the other hosts did not wait for the
    # busy one to finish: both were served before its last request
    assert Counter(granted) == {"a": 10, "b": 2, "c": 2}
    assert max(most["a"], most["b"], most["c"]) <= 2
    assert most["all"] <= 3
    assert max(granted.index("b"), granted.index("c")) < len(granted) - 1 - granted[::-1].index("a")
