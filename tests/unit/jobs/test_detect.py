"""Recognising the ATS and board of a careers URL without fetching it."""

from __future__ import annotations

import pytest

from scout.errors import InvalidUrl
from scout.jobs.detect import detect_embedded, detect_from_url, parse_careers_url


@pytest.mark.parametrize(
    ("url", "ats", "board"),
    [
        ("https://boards.greenhouse.io/northwind", "greenhouse", "northwind"),
        ("https://job-boards.greenhouse.io/northwind/jobs/4412093006", "greenhouse", "northwind"),
        ("https://job-boards.eu.greenhouse.io/northwind", "greenhouse", "northwind"),
        ("https://jobs.lever.co/fieldnote/d6a1c0f2-3b9e-4c55-8f0a-2e7b1c4d9a11", "lever", "fieldnote"),
        ("https://jobs.eu.lever.co/fieldnote", "lever", "fieldnote"),
        ("https://jobs.ashbyhq.com/lumen/1f0e2d3c-4b5a-4968-8776-5a4b3c2d1e0f", "ashby", "lumen"),
        ("https://jobs.ashbyhq.com/lumen", "ashby", "lumen"),
        (
            "https://acme.wd5.myworkdayjobs.com/en-US/External/job/Austin-TX/Data-Engineer_JR100001",
            "workday",
            "https://acme.wd5.myworkdayjobs.com/External",
        ),
        (
            "https://wd1.myworkdaysite.com/en-US/recruiting/acme/Careers",
            "workday",
            "https://wd1.myworkdaysite.com/recruiting/acme/Careers",
        ),
        (
            "https://jobs.smartrecruiters.com/HarborFreightEU/744000012345678-forklift",
            "smartrecruiters",
            "HarborFreightEU",
        ),
        ("https://careers.smartrecruiters.com/HarborFreightEU", "smartrecruiters", "HarborFreightEU"),
        ("jobs.lever.co/fieldnote", "lever", "fieldnote"),
        ("HTTPS://JOBS.LEVER.CO/fieldnote", "lever", "fieldnote"),
    ],
)
def test_every_ats_is_recognised_from_board_and_job_urls(url: str, ats: str, board: str) -> None:
    detected = detect_from_url(url)
    assert detected is not None
    assert (detected.ats, detected.board) == (ats, board)


def test_a_url_on_no_ats_host_is_left_to_the_page() -> None:
    assert detect_from_url("https://careers.example.com/jobs") is None


@pytest.mark.parametrize("url", ["ftp://jobs.lever.co/x", "mailto:jobs@example.com", "", "https://"])
def test_non_http_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidUrl):
        parse_careers_url(url)


def test_an_embedded_greenhouse_board_is_found_in_page_markup() -> None:
    page = (
        '<div id="grnhse_app"></div>'
        '<script src="https://boards.greenhouse.io/embed/job_board/js?for=northwind&amp;b=x"></script>'
        '<a href="https://twitter.com/northwind">Twitter</a>'
    )
    detected = detect_embedded(page)
    assert detected is not None
    assert (detected.ats, detected.board) == ("greenhouse", "northwind")


def test_the_most_linked_board_wins() -> None:
    page = (
        '<a href="//jobs.lever.co/fieldnote/1">a</a><a href="https://jobs.lever.co/fieldnote/2">b</a>'
        '<a href="https://jobs.ashbyhq.com/other">c</a>'
    )
    detected = detect_embedded(page)
    assert detected is not None
    assert (detected.ats, detected.board) == ("lever", "fieldnote")


def test_a_page_without_board_links_embeds_nothing() -> None:
    assert detect_embedded('<a href="https://example.com/about">About</a>') is None
