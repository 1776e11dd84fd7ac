"""The normalised posting model and the fetch result."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from scout.jobs.posting import Posting
from scout.jobs.results import FetchResult, FetchResultBuilder

DESIGN_FIELDS = {
    "ats", "board", "external_id", "title", "url", "apply_url", "location", "locations", "workplace_type",
    "remote", "department", "team", "employment_type", "posted_at", "updated_at", "description_html",
    "description_text", "salary_min", "salary_max", "salary_currency", "salary_period",
    # Issue 10: the stated range annualised, so salary filters compare like with like.
    "salary_year_min", "salary_year_max",
}  # fmt: skip


def posting(**fields: object) -> Posting:
    return Posting(**{"ats": "lever", "board": "acme", "external_id": "1", "title": "Engineer", **fields})


def test_a_posting_serialises_exactly_the_design_fields() -> None:
    assert set(json.loads(posting().model_dump_json())) == DESIGN_FIELDS


def test_timestamps_serialise_as_iso_8601_utc_with_z() -> None:
    when = datetime(2024, 5, 2, 9, 15, tzinfo=timezone(timedelta(hours=-4)))
    dumped = json.loads(posting(posted_at=when).model_dump_json())
    assert dumped["posted_at"] == "2024-05-02T13:15:00Z"


def test_a_naive_timestamp_is_refused() -> None:
    with pytest.raises(ValidationError):
        posting(posted_at=datetime(2024, 5, 2, 9, 15))


def test_whole_salary_amounts_serialise_as_integers() -> None:
    dumped = json.loads(posting(salary_min=80000.0, salary_max=90000.5).model_dump_json())
    assert (dumped["salary_min"], dumped["salary_max"]) == (80000, 90000.5)


def test_a_salary_minimum_above_the_maximum_is_refused() -> None:
    with pytest.raises(ValidationError):
        posting(salary_min=2, salary_max=1)


def test_unknown_enum_values_are_refused() -> None:
    with pytest.raises(ValidationError):
        posting(workplace_type="office")


def test_an_incomplete_result_must_say_why() -> None:
    with pytest.raises(ValidationError):
        FetchResult(ats="lever", board="acme", complete=False, postings=[], fetched_at=datetime.now(UTC))


def test_a_posting_that_cannot_be_read_makes_the_fetch_incomplete() -> None:
    # Given a board answer with one good and one unreadable posting
    builder = FetchResultBuilder("lever", "acme")
    raws = [{"id": "1", "text": "Engineer"}, {"id": "2"}]

    # When both are added
    builder.add_each(raws, lambda raw: posting(external_id=raw["id"], title=raw["text"]))
    result = builder.result()

    # Then the good one is kept and the result is not complete
    assert [p.external_id for p in result.postings] == ["1"]
    assert not result.complete
    assert "could not be read" in result.warnings[0]


def test_a_posting_dropped_on_purpose_does_not_make_the_fetch_incomplete() -> None:
    builder = FetchResultBuilder("ashby", "acme")
    builder.add_each([{"listed": False}], lambda raw: None)
    assert builder.result().complete


def test_repeated_ids_keep_the_first_posting_and_are_reported() -> None:
    builder = FetchResultBuilder("lever", "acme")
    builder.add(posting(title="First"))
    builder.add(posting(title="Again"))
    result = builder.result()
    assert [p.title for p in result.postings] == ["First"]
    assert result.complete
    assert any("repeated" in warning for warning in result.warnings)


@pytest.mark.parametrize(
    ("period", "low", "high", "year_low", "year_high"),
    [
        ("hour", 25, 30.5, 52000, 63440),
        ("day", 400, 500, 104000, 130000),
        ("week", 1000, 1200, 52000, 62400),
        ("month", 5000, 6000, 60000, 72000),
        ("year", 90000, 120000, 90000, 120000),
    ],
)
def test_a_stated_salary_is_annualised(
    period: str, low: float, high: float, year_low: float, year_high: float
) -> None:
    salaried = posting(salary_min=low, salary_max=high, salary_currency="EUR", salary_period=period)
    assert (salaried.salary_year_min, salaried.salary_year_max) == (year_low, year_high)


def test_a_salary_of_unknown_period_is_not_annualised() -> None:
    salaried = posting(salary_min=50000, salary_max=60000, salary_currency="EUR")
    assert (salaried.salary_year_min, salaried.salary_year_max) == (None, None)


def test_annualised_salary_follows_the_stated_range_not_what_a_caller_claims() -> None:
    salaried = posting(
        salary_min=20, salary_max=20, salary_period="hour", salary_year_min=1, salary_year_max=2
    )
    assert (salaried.salary_year_min, salaried.salary_year_max) == (41600, 41600)
