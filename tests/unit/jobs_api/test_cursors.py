"""Opaque keyset cursors: what a list hands out is what it takes back, and nothing else."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from uuid import UUID

import pytest

from scout.cursors import (
    CompaniesPosition,
    JobsPosition,
    RankedJobsPosition,
    RunsPosition,
    decode_cursor,
    encode_cursor,
)
from scout.errors import InvalidCursor

JOB_ID = "9b2e7c14-3f6a-4e8d-a1c5-7d0f2b9e4a63"


def test_a_cursor_round_trips_the_position_to_the_microsecond() -> None:
    cursor = encode_cursor(JobsPosition, {"sort_at": "2026-01-05T09:00:00.123456+00:00", "id": JOB_ID})
    assert cursor is not None
    position = decode_cursor(JobsPosition, cursor)
    assert position == JobsPosition(
        sort_at=datetime(2026, 1, 5, 9, 0, 0, 123456, tzinfo=UTC), id=UUID(JOB_ID)
    )


def test_a_cursor_is_url_safe_and_unpadded() -> None:
    cursor = encode_cursor(CompaniesPosition, {"company": "Ünïcode & Co?/+"})
    assert cursor is not None
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_the_end_of_a_list_has_no_cursor() -> None:
    assert encode_cursor(JobsPosition, None) is None
    assert decode_cursor(JobsPosition, None) is None


def b64(data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not-a-cursor",
        "%%%",
        "é",
        b64([1, 2]),
        b64({"list_name": "jobs", "sort_at": "yesterday", "id": JOB_ID}),
        b64({"list_name": "jobs", "sort_at": "2026-01-05T09:00:00", "id": JOB_ID}),  # no zone
        b64({"list_name": "jobs", "sort_at": "2026-01-05T09:00:00Z"}),
        b64({"list_name": "jobs", "sort_at": "2026-01-05T09:00:00Z", "id": JOB_ID, "extra": 1}),
        b64({"list_name": "companies", "company": "Acme"}),  # another list's cursor
        b64({"sort_at": "2026-01-05T09:00:00Z", "id": JOB_ID}),
    ],
)
def test_anything_but_an_issued_cursor_is_a_400_naming_the_cursor(cursor: str) -> None:
    with pytest.raises(InvalidCursor) as raised:
        decode_cursor(JobsPosition, cursor)
    assert raised.value.status == 400
    assert raised.value.message.startswith("cursor:")


def test_a_cursor_of_one_list_is_refused_by_another() -> None:
    runs_cursor = encode_cursor(RunsPosition, {"started_at": "2026-01-05T09:00:00Z", "id": JOB_ID})
    with pytest.raises(InvalidCursor):
        decode_cursor(JobsPosition, runs_cursor)


def test_a_relevance_cursor_carries_its_tier_and_the_time_the_ranking_began() -> None:
    next_position = {
        "as_of": "2026-12-07T02:33:06.021385+00:00",
        "rank": 4,
        "sort_at": "2026-12-06T09:00:00.5+00:00",
        "id": JOB_ID,
    }
    cursor = encode_cursor(RankedJobsPosition, next_position)
    position = decode_cursor(RankedJobsPosition, cursor)
    assert position is not None
    assert (position.rank, position.as_of.microsecond, position.id) == (4, 21385, UUID(JOB_ID))
    # and a newest-first /jobs cursor is not one
    with pytest.raises(InvalidCursor):
        decode_cursor(
            RankedJobsPosition,
            encode_cursor(JobsPosition, {"sort_at": next_position["sort_at"], "id": JOB_ID}),
        )
