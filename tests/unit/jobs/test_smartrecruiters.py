"""SmartRecruiters postings normalised from a realistic postings page."""

from __future__ import annotations

import httpx
import pytest

from scout.jobs.ats import smartrecruiters
from scout.jobs.posting import Posting
from tests.support.ats_payloads import fixture_json


@pytest.fixture(scope="module")
def postings() -> dict[str, Posting]:
    content = fixture_json("smartrecruiters_postings.json")["content"]
    return {raw["name"]: smartrecruiters.normalise(raw, "HarborFreightEU") for raw in content}


def test_the_public_url_is_built_from_company_and_posting_id(postings: dict[str, Posting]) -> None:
    posting = postings["Forklift Operator (m/w/d)"]
    assert posting.url == "https://jobs.smartrecruiters.com/HarborFreightEU/744000012345678"
    assert posting.external_id == "744000012345678"


def test_location_remote_flag_decides_remote(postings: dict[str, Posting]) -> None:
    assert postings["Customer Service Representative"].remote is True
    assert postings["Customer Service Representative"].workplace_type == "remote"
    assert postings["Forklift Operator (m/w/d)"].remote is False
    assert postings["Logistics Trainee"].workplace_type == "hybrid"


def test_location_text_prefers_the_full_location(postings: dict[str, Posting]) -> None:
    assert postings["Customer Service Representative"].location == "Lisbon, Portugal"
    assert postings["Forklift Operator (m/w/d)"].location == "Hamburg, HH, DE"


def test_type_of_employment_and_department(postings: dict[str, Posting]) -> None:
    assert postings["Forklift Operator (m/w/d)"].employment_type == "full_time"
    assert postings["Forklift Operator (m/w/d)"].department == "Warehouse"
    assert postings["Customer Service Representative"].employment_type == "part_time"
    assert postings["Logistics Trainee"].employment_type == "intern"


def test_released_date_is_the_posted_date(postings: dict[str, Posting]) -> None:
    assert (
        postings["Forklift Operator (m/w/d)"].model_dump(mode="json")["posted_at"] == "2024-06-04T08:30:12Z"
    )


@pytest.mark.parametrize(
    ("url", "board"),
    [
        ("https://jobs.smartrecruiters.com/HarborFreightEU", "HarborFreightEU"),
        (
            "https://jobs.smartrecruiters.com/HarborFreightEU/744000012345678-forklift-operator",
            "HarborFreightEU",
        ),
        ("https://careers.smartrecruiters.com/HarborFreightEU", "HarborFreightEU"),
        ("https://api.smartrecruiters.com/v1/companies/HarborFreightEU/postings", "HarborFreightEU"),
    ],
)
def test_board_from_url(url: str, board: str) -> None:
    assert smartrecruiters.board_from_url(httpx.URL(url)) == board
