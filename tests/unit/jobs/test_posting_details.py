"""Postings completed from detail answers: Workday ``jobPostingInfo``, SmartRecruiters ``jobAd``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scout.jobs.ats import smartrecruiters, workday
from scout.jobs.ats.adapter import merged_posting
from scout.jobs.results import MalformedPosting
from tests.support.ats_payloads import fixture_json

NOW = datetime(2024, 6, 12, 15, 0, tzinfo=UTC)
BOARD = workday.WorkdayBoard(
    host="nvidia.wd5.myworkdayjobs.com", tenant="nvidia", site="NVIDIAExternalCareerSite"
)
WORKDAY_BOARD = "https://nvidia.wd5.myworkdayjobs.com/NVIDIAExternalCareerSite"


def workday_listed_and_detailed() -> tuple[workday.Posting, workday.Posting]:
    listing = next(
        raw
        for raw in fixture_json("workday_jobs_page.json")["jobPostings"]
        if raw["title"] == "Technical Program Manager"
    )
    listed = workday.normalise(listing, BOARD, WORKDAY_BOARD, NOW)
    info = fixture_json("workday_job_detail.json")["jobPostingInfo"]
    return listed, merged_posting(listed, workday.detail_fields(info))


def test_workday_detail_gives_the_real_start_date_where_the_list_says_30_plus_days() -> None:
    listed, detailed = workday_listed_and_detailed()
    assert listed.posted_at is None
    assert detailed.model_dump(mode="json")["posted_at"] == "2024-03-18T00:00:00Z"


def test_workday_detail_gives_every_location_where_the_list_only_counts_them() -> None:
    listed, detailed = workday_listed_and_detailed()
    assert listed.locations == []
    assert detailed.locations == ["US, Remote", "US, CA, Santa Clara", "US, TX, Austin"]
    assert detailed.location == "US, Remote; US, CA, Santa Clara; US, TX, Austin"


def test_workday_detail_gives_type_workplace_and_description() -> None:
    _, detailed = workday_listed_and_detailed()
    assert detailed.employment_type == "full_time"
    assert (detailed.workplace_type, detailed.remote) == ("remote", True)
    assert detailed.description_html is not None
    assert detailed.description_html.startswith("<p><b>About the team</b></p>")
    assert detailed.description_text is not None
    assert "- Own programme schedules across silicon, board and software teams" in detailed.description_text
    assert "data centres & clouds" in detailed.description_text


def test_workday_detail_keeps_the_requisition_as_the_posting_id() -> None:
    listed, detailed = workday_listed_and_detailed()
    assert detailed.external_id == listed.external_id == "JR1976001"
    assert detailed.url == (
        "https://nvidia.wd5.myworkdayjobs.com/NVIDIAExternalCareerSite/job/US-Remote/Technical-Program-Manager_JR1976001"
    )


def smartrecruiters_detailed() -> smartrecruiters.Posting:
    listing = fixture_json("smartrecruiters_postings.json")["content"][0]
    listed = smartrecruiters.normalise(listing, "HarborFreightEU")
    detail = fixture_json("smartrecruiters_posting_detail.json")
    return merged_posting(listed, smartrecruiters.detail_fields(detail, "HarborFreightEU"))


def test_smartrecruiters_sections_come_in_page_order_each_with_its_title() -> None:
    detailed = smartrecruiters_detailed()
    assert detailed.description_text is not None
    headings = [
        line
        for line in detailed.description_text.split("\n")
        if line.endswith(("Description", "Qualifications", "Information"))
    ]
    assert headings == ["Company Description", "Job Description", "Qualifications", "Additional Information"]
    assert "- Forklift licence" in detailed.description_text
    assert detailed.description_html is not None
    assert detailed.description_html.startswith("<h3>Company Description</h3>\n<p>Harbor Freight Europe")


def test_smartrecruiters_detail_gives_the_apply_link_and_the_full_location() -> None:
    detailed = smartrecruiters_detailed()
    assert detailed.apply_url == (
        "https://jobs.smartrecruiters.com/HarborFreightEU/744000012345678-forklift-operator-m-w-d-?oga=true"
    )
    assert detailed.location == "Hamburg, HH, Germany"


def test_smartrecruiters_compensation_is_the_salary_annualised() -> None:
    detailed = smartrecruiters_detailed()
    assert (detailed.salary_min, detailed.salary_max, detailed.salary_currency) == (17.5, 19.0, "EUR")
    assert detailed.salary_period == "hour"
    assert (detailed.salary_year_min, detailed.salary_year_max) == (36400, 39520)


def test_a_detail_field_that_is_missing_keeps_the_list_value() -> None:
    listing = fixture_json("smartrecruiters_postings.json")["content"][0]
    listed = smartrecruiters.normalise(listing, "HarborFreightEU")
    detailed = merged_posting(
        listed, smartrecruiters.detail_fields({"jobAd": {"sections": {}}}, "HarborFreightEU")
    )
    assert detailed == listed


@pytest.mark.parametrize("path", ["/job/../../admin", "/wday/other", "/job/x?y=1"])
async def test_a_workday_detail_path_that_is_not_a_job_path_is_never_requested(path: str) -> None:
    # Given a listing whose externalPath would leave the job pages
    listed = workday.normalise(
        {"title": "Engineer", "externalPath": "/job/Austin/Engineer_JR1"}, BOARD, WORKDAY_BOARD, NOW
    )
    # When its detail is fetched, then it fails before any request (the session is never used)
    with pytest.raises(MalformedPosting):
        await workday.fetch_detail(WORKDAY_BOARD, listed, path, None, None)  # type: ignore[arg-type]
