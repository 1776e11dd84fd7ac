"""Lever postings normalised from a realistic site answer."""

from __future__ import annotations

import httpx
import pytest

from scout.jobs.ats import lever
from scout.jobs.posting import Posting
from tests.support.ats_payloads import fixture_json


@pytest.fixture(scope="module")
def postings() -> dict[str, Posting]:
    return {raw["text"]: lever.normalise(raw, "fieldnote") for raw in fixture_json("lever_postings.json")}


def test_created_at_epoch_milliseconds_is_the_posted_date(postings: dict[str, Posting]) -> None:
    assert postings["Senior iOS Engineer"].model_dump(mode="json")["posted_at"] == "2024-05-06T09:00:00Z"


def test_workplace_type_and_commitment_are_mapped(postings: dict[str, Posting]) -> None:
    ios, support, intern = (
        postings["Senior iOS Engineer"],
        postings["Support Specialist"],
        postings["Marketing Intern"],
    )
    assert (ios.workplace_type, ios.remote, ios.employment_type) == ("hybrid", False, "full_time")
    assert (support.workplace_type, support.remote, support.employment_type) == ("remote", True, "part_time")
    assert (intern.workplace_type, intern.remote, intern.employment_type) == (None, None, "intern")


def test_salary_range_with_its_interval(postings: dict[str, Posting]) -> None:
    ios, support = postings["Senior iOS Engineer"], postings["Support Specialist"]
    assert (ios.salary_min, ios.salary_max, ios.salary_currency, ios.salary_period) == (
        80000,
        95000,
        "EUR",
        "year",
    )
    assert (support.salary_min, support.salary_max, support.salary_period) == (24, 28, "hour")


def test_all_locations_are_kept(postings: dict[str, Posting]) -> None:
    ios = postings["Senior iOS Engineer"]
    assert ios.locations == ["Amsterdam", "Berlin"]
    assert ios.location == "Amsterdam; Berlin"


def test_description_includes_the_titled_lists_in_page_order(postings: dict[str, Posting]) -> None:
    text = postings["Senior iOS Engineer"].description_text
    assert text is not None
    assert (
        text.index("Build our iOS app.") < text.index("What you'll do") < text.index("- Ship features weekly")
    )
    assert text.endswith("We offer a learning budget.")


def test_team_department_and_links(postings: dict[str, Posting]) -> None:
    ios = postings["Senior iOS Engineer"]
    assert (ios.department, ios.team) == ("Engineering", "Mobile")
    assert ios.apply_url == f"{ios.url}/apply"


@pytest.mark.parametrize(
    ("url", "board"),
    [
        ("https://jobs.lever.co/fieldnote", "fieldnote"),
        ("https://jobs.lever.co/fieldnote/d6a1c0f2-3b9e-4c55-8f0a-2e7b1c4d9a11/apply", "fieldnote"),
        ("https://jobs.eu.lever.co/fieldnote/d6a1c0f2-3b9e-4c55-8f0a-2e7b1c4d9a11", "fieldnote"),
        ("https://api.lever.co/v0/postings/fieldnote?mode=json", "fieldnote"),
        ("https://jobs.lever.co/", None),
    ],
)
def test_board_from_url(url: str, board: str | None) -> None:
    assert lever.board_from_url(httpx.URL(url)) == board


def test_every_list_keeps_its_heading_and_items_before_the_closing(postings: dict[str, Posting]) -> None:
    # Given a posting with two titled lists and an additional section
    html = postings["Senior iOS Engineer"].description_html
    assert html is not None

    # Then the opening, each list as a heading plus its items, and the closing come in page order
    order = ["our iOS app.", "<h3>What you'll do</h3>", "<li>Mentor engineers</li>", "<h3>You have</h3>"]
    order += ["<li>5+ years of Swift</li>", "We offer a learning budget."]
    positions = [html.index(part) for part in order]
    assert positions == sorted(positions)
