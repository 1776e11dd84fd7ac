"""Normalising schema.org JobPostings, and giving each a stable identity."""

from __future__ import annotations

import pytest

from scout.errors import InvalidBoard
from scout.jobs.ats import jsonld
from scout.jobs.ld_json import scan_job_postings
from scout.jobs.posting import Posting
from tests.support.ats_payloads import fixture_text

BOARD = "https://careers.brightwater.example/"
NURSE = "Registered Nurse \N{EN DASH} ICU"  # the page writes &ndash;


def normalised(name: str, board: str = BOARD) -> dict[str, Posting]:
    nodes = scan_job_postings(fixture_text(name)).postings
    ids = jsonld.posting_identities(nodes, [board] * len(nodes), board)
    return {
        p.title: p for p in (jsonld.normalise(n, board, board, i) for n, i in zip(nodes, ids, strict=True))
    }


@pytest.fixture(scope="module")
def graph() -> dict[str, Posting]:
    return normalised("jsonld_graph_page.html")


def test_identifier_property_value_is_the_identity(graph: dict[str, Posting]) -> None:
    assert graph[NURSE].external_id == "BW-ICU-0042"
    assert graph["Pharmacy Assistant"].external_id == "881"


def test_several_places_and_country_objects_become_locations(graph: dict[str, Posting]) -> None:
    assert graph[NURSE].locations == ["Rotterdam, Zuid-Holland, NL", "Utrecht, NL"]
    assert graph["Pharmacy Assistant"].locations == ["Antwerp, BE"]


def test_unit_text_outside_the_value_sets_the_period(graph: dict[str, Posting]) -> None:
    nurse = graph[NURSE]
    assert (nurse.salary_min, nurse.salary_max, nurse.salary_currency, nurse.salary_period) == (
        3800,
        5200,
        "EUR",
        "month",
    )


def test_telecommute_is_remote_and_a_single_value_is_both_ends(graph: dict[str, Posting]) -> None:
    coder = graph["Medical Coder"]
    assert (coder.workplace_type, coder.remote) == ("remote", True)
    assert coder.locations == ["Netherlands"]
    assert (coder.salary_min, coder.salary_max, coder.salary_currency, coder.salary_period) == (
        32.5,
        32.5,
        "EUR",
        "hour",
    )
    assert coder.employment_type == "contract"


def test_relative_posting_urls_resolve_against_the_page(graph: dict[str, Posting]) -> None:
    assert graph["Medical Coder"].url == "https://careers.brightwater.example/jobs/medical-coder-0107"
    assert graph["Medical Coder"].description_html == "<p>Code records from home.</p>"


def test_a_posting_without_identifier_or_own_url_gets_a_content_hash_not_the_page_url() -> None:
    # Given two postings on a listing page with neither identifier nor url
    nodes = [
        {
            "@type": "JobPosting",
            "title": "Cook",
            "datePosted": "2024-06-01",
            "jobLocation": {"address": "Oslo"},
        },
        {
            "@type": "JobPosting",
            "title": "Waiter",
            "datePosted": "2024-06-01",
            "jobLocation": {"address": "Oslo"},
        },
    ]

    # When identities are given
    ids = jsonld.posting_identities(nodes, [BOARD, BOARD], BOARD)

    # Then each has its own stable hash, and none is the page URL
    assert len(set(ids)) == 2
    assert all(identity.startswith("sha256:") for identity in ids)
    assert ids == jsonld.posting_identities(nodes, [BOARD, BOARD], BOARD)


def test_an_identifier_shared_by_every_posting_is_passed_over_for_urls() -> None:
    nodes = [
        {"@type": "JobPosting", "title": "Cook", "identifier": "Acme Inc", "url": "/jobs/cook"},
        {"@type": "JobPosting", "title": "Waiter", "identifier": "Acme Inc", "url": "/jobs/waiter"},
    ]
    ids = jsonld.posting_identities(nodes, [BOARD, BOARD], BOARD)
    assert ids == [
        "https://careers.brightwater.example/jobs/cook",
        "https://careers.brightwater.example/jobs/waiter",
    ]


def test_a_url_equal_to_the_careers_page_is_not_an_identity() -> None:
    nodes = [{"@type": "JobPosting", "title": "Cook", "url": BOARD}]
    assert jsonld.posting_identities(nodes, [BOARD], BOARD)[0].startswith("sha256:")


def test_the_board_is_the_careers_url_without_fragment() -> None:
    assert jsonld.canonical_board("https://careers.example/jobs#open") == "https://careers.example/jobs"
    with pytest.raises(InvalidBoard):
        jsonld.canonical_board("javascript:alert(1)")
