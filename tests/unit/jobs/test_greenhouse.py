"""Greenhouse jobs normalised from a realistic board answer."""

from __future__ import annotations

import httpx
import pytest

from scout.jobs.ats import greenhouse
from scout.jobs.posting import Posting
from tests.support.ats_payloads import fixture_json


@pytest.fixture(scope="module")
def postings() -> dict[str, Posting]:
    jobs = fixture_json("greenhouse_jobs.json")["jobs"]
    return {job["title"]: greenhouse.normalise(job, "northwind") for job in jobs}


def test_entity_escaped_content_is_unescaped_once(postings: dict[str, Posting]) -> None:
    posting = postings["Senior Backend Engineer, Payments"]
    assert posting.description_html is not None
    assert posting.description_html.startswith('<div class="content-intro"><p>Northwind')
    assert posting.description_text is not None
    assert "- Design the ledger service" in posting.description_text
    assert "Salary & equity." in posting.description_text


def test_first_published_is_the_posted_date(postings: dict[str, Posting]) -> None:
    posting = postings["Senior Backend Engineer, Payments"]
    assert posting.model_dump(mode="json")["posted_at"] == "2024-05-02T13:15:00Z"
    assert posting.model_dump(mode="json")["updated_at"] == "2024-06-11T14:24:18Z"


def test_a_location_that_only_says_hybrid_takes_its_cities_from_offices(postings: dict[str, Posting]) -> None:
    posting = postings["Senior Backend Engineer, Payments"]
    assert posting.locations == ["San Francisco, CA, United States", "New York, NY, United States"]
    assert posting.workplace_type == "hybrid"
    assert posting.remote is False


def test_employment_type_and_salary_come_from_metadata(postings: dict[str, Posting]) -> None:
    posting = postings["Senior Backend Engineer, Payments"]
    assert posting.employment_type == "full_time"
    assert (posting.salary_min, posting.salary_max, posting.salary_currency, posting.salary_period) == (
        185000,
        225000,
        "USD",
        "year",
    )


def test_nested_departments_give_department_and_team(postings: dict[str, Posting]) -> None:
    posting = postings["Senior Backend Engineer, Payments"]
    assert (posting.department, posting.team) == ("Engineering", "Payments Platform")


def test_without_metadata_remote_and_type_are_read_from_location_and_title(
    postings: dict[str, Posting],
) -> None:
    posting = postings["Customer Success Manager (Contract)"]
    assert posting.workplace_type == "remote"
    assert posting.remote is True
    assert posting.employment_type == "contract"
    assert posting.locations == ["Remote - US"]


def test_a_yes_no_remote_field_answers_remote(postings: dict[str, Posting]) -> None:
    posting = postings["Data Analyst Internship"]
    assert posting.remote is False
    assert posting.employment_type == "intern"
    assert posting.locations == ["London", "Manchester"]


def test_identity_and_links(postings: dict[str, Posting]) -> None:
    posting = postings["Senior Backend Engineer, Payments"]
    assert posting.external_id == "4412093006"
    assert posting.url == "https://boards.greenhouse.io/northwind/jobs/4412093006"


@pytest.mark.parametrize(
    ("url", "board"),
    [
        ("https://boards.greenhouse.io/northwind", "northwind"),
        ("https://boards.greenhouse.io/northwind/jobs/4412093006", "northwind"),
        ("https://job-boards.greenhouse.io/northwind/jobs/4412093006?gh_src=abc", "northwind"),
        ("https://job-boards.eu.greenhouse.io/northwind", "northwind"),
        ("https://boards.greenhouse.io/embed/job_board?for=northwind", "northwind"),
        ("https://boards.greenhouse.io/embed/job_board/js?for=northwind", "northwind"),
        ("https://boards-api.greenhouse.io/v1/boards/northwind/jobs", "northwind"),
        ("https://boards.greenhouse.io/embed/job_board", None),
        ("https://example.com/northwind", None),
    ],
)
def test_board_from_url(url: str, board: str | None) -> None:
    assert greenhouse.board_from_url(httpx.URL(url)) == board
