"""What POST and PATCH /sources accept, and the company name a board implies."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from scout.jobs.models import NewSource, SourceChanges
from scout.jobs.sources import company_from_board


@pytest.mark.parametrize(
    "body",
    [
        {"url": "https://jobs.lever.co/acme"},
        {"url": "https://jobs.lever.co/acme", "company": "Acme"},
        {"ats": "lever", "board": "acme"},
        {"ats": "workday", "board": "https://acme.wd5.myworkdayjobs.com/External", "company": "Acme"},
    ],
)
def test_a_new_source_is_a_url_or_a_kind_and_board(body: dict[str, Any]) -> None:
    NewSource.model_validate(body)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"url": "https://jobs.lever.co/acme", "ats": "lever"}, "not both"),
        ({"url": "https://jobs.lever.co/acme", "ats": "lever", "board": "acme"}, "not both"),
        ({"ats": "lever"}, "both ats and board"),
        ({"board": "acme"}, "both ats and board"),
        ({}, "both ats and board"),
        ({"ats": "taleo", "board": "acme"}, "ats"),
        ({"url": "https://jobs.lever.co/acme", "company": "  "}, "blank"),
        ({"url": "https://jobs.lever.co/acme", "company": "x" * 201}, "company"),
        ({"url": "https://jobs.lever.co/acme", "tags": ["x"]}, "tags"),
    ],
)
def test_a_malformed_new_source_says_what_is_wrong(body: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        NewSource.model_validate(body)


def test_a_change_keeps_only_what_was_given() -> None:
    assert SourceChanges.model_validate({"enabled": False}).as_changes() == {"enabled": False}


@pytest.mark.parametrize(
    "body",
    [{}, {"enabled": None}, {"poll_interval_minutes": 4}, {"poll_interval_minutes": 10081}, {"board": "x"}],
)
def test_a_change_must_change_something_allowed(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SourceChanges.model_validate(body)


@pytest.mark.parametrize(
    ("ats", "board", "company"),
    [
        ("greenhouse", "acme", "Acme"),
        ("lever", "acme-robotics", "Acme Robotics"),
        ("ashby", "acme_labs", "Acme Labs"),
        ("smartrecruiters", "AcmeLogistics1", "AcmeLogistics1"),
        ("workday", "https://acme.wd5.myworkdayjobs.com/External", "Acme"),
        ("workday", "https://wd3.myworkdaysite.com/recruiting/initech/Careers", "Initech"),
        ("jsonld", "https://careers.globex.com/jobs", "Globex"),
        ("jsonld", "https://www.globex.co.uk/careers", "Globex"),
        ("jsonld", "https://jobs.example/", "Jobs"),
        ("jsonld", "http://127.0.0.1:8080/careers", "127.0.0.1"),
    ],
)
def test_the_company_defaults_to_a_readable_board_name(ats: str, board: str, company: str) -> None:
    assert company_from_board(ats, board) == company
