"""Ashby jobs normalised from a realistic job board answer."""

from __future__ import annotations

import httpx
import pytest

from scout.jobs.ats import ashby
from scout.jobs.posting import Posting
from tests.support.ats_payloads import fixture_json

JOBS = fixture_json("ashby_job_board.json")["jobs"]


@pytest.fixture(scope="module")
def postings() -> dict[str, Posting]:
    normalised = (ashby.normalise(job, "lumen") for job in JOBS)
    return {posting.title: posting for posting in normalised if posting is not None}


def test_unlisted_jobs_are_dropped(postings: dict[str, Posting]) -> None:
    assert "Head of Secret Project" not in postings
    assert len(postings) == 3


def test_workplace_type_wins_over_is_remote(postings: dict[str, Posting]) -> None:
    # Given a job with isRemote true but workplaceType Hybrid
    posting = postings["Staff Machine Learning Engineer"]
    assert (posting.workplace_type, posting.remote) == ("hybrid", False)


def test_is_remote_is_used_when_there_is_no_workplace_type(postings: dict[str, Posting]) -> None:
    posting = postings["Developer Advocate"]
    assert (posting.workplace_type, posting.remote) == ("remote", True)


def test_secondary_locations_are_kept(postings: dict[str, Posting]) -> None:
    assert postings["Staff Machine Learning Engineer"].locations == [
        "San Francisco, CA",
        "Seattle, WA",
        "Toronto, ON",
    ]


def test_salary_spans_every_tier_and_ignores_equity(postings: dict[str, Posting]) -> None:
    posting = postings["Staff Machine Learning Engineer"]
    assert (posting.salary_min, posting.salary_max, posting.salary_currency, posting.salary_period) == (
        210000,
        260000,
        "USD",
        "year",
    )


def test_hourly_pay_keeps_its_period(postings: dict[str, Posting]) -> None:
    posting = postings["Event Staff"]
    assert (posting.salary_min, posting.salary_max, posting.salary_period) == (25, 30, "hour")
    assert posting.employment_type == "temporary"


def test_no_compensation_means_no_salary(postings: dict[str, Posting]) -> None:
    posting = postings["Developer Advocate"]
    assert posting.salary_min is None
    assert posting.salary_period is None
    assert posting.employment_type == "contract"


@pytest.mark.parametrize(
    ("url", "board"),
    [
        ("https://jobs.ashbyhq.com/lumen", "lumen"),
        ("https://jobs.ashbyhq.com/lumen/1f0e2d3c-4b5a-4968-8776-5a4b3c2d1e0f/application", "lumen"),
        ("https://api.ashbyhq.com/posting-api/job-board/lumen?includeCompensation=true", "lumen"),
        ("https://ashbyhq.com/lumen", None),
    ],
)
def test_board_from_url(url: str, board: str | None) -> None:
    assert ashby.board_from_url(httpx.URL(url)) == board
