"""Workday careers URLs, requisition ids and postings from a realistic jobs page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scout.errors import InvalidBoard
from scout.jobs.ats import workday
from tests.support.ats_payloads import fixture_json

NOW = datetime(2024, 6, 12, 15, 0, tzinfo=UTC)
BOARD = workday.WorkdayBoard(host="acme.wd5.myworkdayjobs.com", tenant="acme", site="External")


@pytest.mark.parametrize(
    ("url", "host", "tenant", "site"),
    [
        ("https://acme.wd5.myworkdayjobs.com/External", "acme.wd5.myworkdayjobs.com", "acme", "External"),
        (
            "https://acme.wd5.myworkdayjobs.com/en-US/External",
            "acme.wd5.myworkdayjobs.com",
            "acme",
            "External",
        ),
        (
            "https://acme.wd5.myworkdayjobs.com/en-US/External/job/Austin-TX/Data-Engineer_JR100001",
            "acme.wd5.myworkdayjobs.com",
            "acme",
            "External",
        ),
        ("https://ACME.WD1.myworkdayjobs.com/Careers?q=x", "acme.wd1.myworkdayjobs.com", "acme", "Careers"),
        ("https://wd1.myworkdaysite.com/recruiting/acme/Careers", "wd1.myworkdaysite.com", "acme", "Careers"),
        (
            "https://wd1.myworkdaysite.com/fr-FR/recruiting/acme/Careers",
            "wd1.myworkdaysite.com",
            "acme",
            "Careers",
        ),
        (
            "https://wd3.myworkdaysite.com/en-US/recruiting/acme/Careers/job/Paris/Analyst_R55",
            "wd3.myworkdaysite.com",
            "acme",
            "Careers",
        ),
        (
            "https://acme.wd5.myworkdayjobs.com/wday/cxs/acme/External/jobs",
            "acme.wd5.myworkdayjobs.com",
            "acme",
            "External",
        ),
    ],
)
def test_both_careers_url_shapes_are_understood(url: str, host: str, tenant: str, site: str) -> None:
    assert workday.parse_careers_url(url) == workday.WorkdayBoard(host=host, tenant=tenant, site=site)


@pytest.mark.parametrize(
    "url",
    [
        "https://acme.example.com/External",
        "https://myworkdayjobs.com/External",
        "https://acme.wd5.myworkdayjobs.com/",
        "https://wd1.myworkdaysite.com/acme/Careers",
        "ftp://acme.wd5.myworkdayjobs.com/External",
        "not a url",
    ],
)
def test_other_urls_are_not_workday_boards(url: str) -> None:
    assert workday.parse_careers_url(url) is None


def test_the_canonical_board_drops_locale_and_job_path() -> None:
    assert (
        workday.canonical_board("http://acme.wd5.myworkdayjobs.com/en-US/External/job/Austin-TX/Data_JR1")
        == "https://acme.wd5.myworkdayjobs.com/External"
    )
    assert (
        workday.canonical_board("https://wd1.myworkdaysite.com/en-US/recruiting/acme/Careers")
        == "https://wd1.myworkdaysite.com/recruiting/acme/Careers"
    )


def test_a_board_that_is_not_a_workday_url_is_refused_before_any_request() -> None:
    with pytest.raises(InvalidBoard):
        workday.canonical_board("https://169.254.169.254/latest")


@pytest.mark.parametrize(
    ("listing", "bullets", "others", "expected"),
    [
        ("JR1987654-2", ["JR1987654"], set(), "JR1987654"),
        ("JR1987654-2", [], {"JR1987654"}, "JR1987654"),
        ("JR1987654-2", [], set(), "JR1987654-2"),
        ("R-12", ["R-12"], set(), "R-12"),
        ("2024-15", [], {"2024-16"}, "2024-15"),
        ("JR1987654", ["JR1987654"], set(), "JR1987654"),
    ],
)
def test_repeat_suffixes_are_dropped_only_with_evidence(
    listing: str, bullets: list[str], others: set[str], expected: str
) -> None:
    assert workday.requisition_id(listing, bullets, others | {listing}) == expected


def test_postings_are_normalised_from_a_jobs_page() -> None:
    raws = fixture_json("workday_jobs_page.json")["jobPostings"]
    postings = [workday.normalise(raw, BOARD, BOARD.careers_url, NOW) for raw in raws]
    first, _, remote, _, intern = postings
    assert first.external_id == "JR1987654"
    assert first.url == (
        "https://acme.wd5.myworkdayjobs.com/External/job/Santa-Clara-CA/Senior-Software-Engineer---Cloud_JR1987654"
    )
    assert first.model_dump(mode="json")["posted_at"] == "2024-06-12T00:00:00Z"
    assert (remote.workplace_type, remote.employment_type, remote.posted_at) == ("remote", "full_time", None)
    # "2 Locations" is a count, not a place
    assert (remote.locations, remote.location) == ([], "2 Locations")
    assert intern.employment_type == "part_time"
