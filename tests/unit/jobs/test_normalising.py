"""Dates, job types, workplaces and pay, as every adapter reads them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scout.jobs.normalising import (
    is_workplace_only,
    parse_amount,
    parse_employment_type,
    parse_relative_posted,
    parse_salary_period,
    parse_timestamp,
    parse_workplace_type,
    salary_fields,
    unique_texts,
    workplace_fields,
)

NOW = datetime(2024, 6, 12, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-05-02T09:15:00-04:00", datetime(2024, 5, 2, 13, 15, tzinfo=UTC)),
        ("2024-05-02T13:15:00Z", datetime(2024, 5, 2, 13, 15, tzinfo=UTC)),
        ("2024-05-02T13:15:00.393+00:00", datetime(2024, 5, 2, 13, 15, 0, 393000, tzinfo=UTC)),
        ("2024-05-02", datetime(2024, 5, 2, tzinfo=UTC)),
        ("2024-05-02T13:15:00", datetime(2024, 5, 2, 13, 15, tzinfo=UTC)),
        (1714986000000, datetime(2024, 5, 6, 9, 0, tzinfo=UTC)),
        (1714986000, datetime(2024, 5, 6, 9, 0, tzinfo=UTC)),
        ("1714986000000", datetime(2024, 5, 6, 9, 0, tzinfo=UTC)),
    ],
)
def test_timestamps_in_any_documented_spelling_become_utc(raw: object, expected: datetime) -> None:
    assert parse_timestamp(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "yesterday", "2024-13-45", True, {"date": "2024-01-01"}])
def test_unreadable_timestamps_are_unknown_rather_than_guessed(raw: object) -> None:
    assert parse_timestamp(raw) is None


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Posted Today", datetime(2024, 6, 12, tzinfo=UTC)),
        ("Posted Yesterday", datetime(2024, 6, 11, tzinfo=UTC)),
        ("Posted 3 Days Ago", datetime(2024, 6, 9, tzinfo=UTC)),
        ("posted  1 day ago", datetime(2024, 6, 11, tzinfo=UTC)),
    ],
)
def test_relative_posted_labels_point_to_midnight_utc_of_that_day(label: str, expected: datetime) -> None:
    assert parse_relative_posted(label, NOW) == expected


def test_open_ended_posted_label_gives_no_date() -> None:
    # Given "30+ Days Ago", which only bounds the date
    # Then no date is invented
    assert parse_relative_posted("Posted 30+ Days Ago", NOW) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Full-time", "full_time"),
        ("FULL_TIME", "full_time"),
        ("FullTime", "full_time"),
        ("Permanent", "full_time"),
        ("Part time", "part_time"),
        ("PartTime", "part_time"),
        ("CONTRACTOR", "contract"),
        ("Contract", "contract"),
        ("Temporary", "temporary"),
        ("Intern", "intern"),
        ("Internship", "intern"),
        (["VOLUNTEER", "PART_TIME"], "part_time"),
        ("International Sales Lead", None),
        ("VOLUNTEER", None),
        (None, None),
    ],
)
def test_employment_types_map_to_the_posting_enum(raw: object, expected: str | None) -> None:
    assert parse_employment_type(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("OnSite", "onsite"),
        ("on-site", "onsite"),
        ("Remote - US", "remote"),
        ("TELECOMMUTE", "remote"),
        ("Hybrid", "hybrid"),
        ("Hybrid Remote", "hybrid"),
        ("unspecified", None),
        ("San Francisco, CA", None),
    ],
)
def test_workplace_labels_map_to_the_posting_enum(raw: str, expected: str | None) -> None:
    assert parse_workplace_type(raw) == expected


def test_an_explicit_workplace_decides_remote_over_a_remote_flag() -> None:
    assert workplace_fields("hybrid", True) == {"workplace_type": "hybrid", "remote": False}
    assert workplace_fields(None, True) == {"workplace_type": "remote", "remote": True}
    assert workplace_fields(None, False) == {"workplace_type": None, "remote": False}
    assert workplace_fields(None, None) == {"workplace_type": None, "remote": None}


@pytest.mark.parametrize("text", ["Hybrid", "Remote", "Fully Remote", "On-site", "(Remote)"])
def test_a_location_that_only_names_a_workplace_is_recognised(text: str) -> None:
    assert is_workplace_only(text)


def test_a_real_place_is_not_mistaken_for_a_workplace() -> None:
    assert not is_workplace_only("Remote - US")
    assert not is_workplace_only("London")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1 YEAR", "year"),
        ("YEAR", "year"),
        ("per-year-salary", "year"),
        ("per-month-salary", "month"),
        ("per-week-salary", "week"),
        ("per-day-wage", "day"),
        ("per-hour-wage", "hour"),
        ("1 HOUR", "hour"),
        ("Salary Range (Annual)", "year"),
        ("2 WEEK", None),
        ("one-time", None),
        ("NONE", None),
        (None, None),
    ],
)
def test_pay_intervals_map_to_a_single_period_or_none(raw: object, expected: str | None) -> None:
    assert parse_salary_period(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (120000, 120000.0),
        ("185000.0", 185000.0),
        ("120,000", 120000.0),
        ("-5", None),
        ("lots", None),
        (True, None),
    ],
)
def test_amounts_are_non_negative_numbers(raw: object, expected: float | None) -> None:
    assert parse_amount(raw) == expected


def test_a_reversed_salary_range_is_put_in_order() -> None:
    fields = salary_fields(90000, 80000, "eur", "year")
    assert fields == {
        "salary_min": 80000,
        "salary_max": 90000,
        "salary_currency": "EUR",
        "salary_period": "year",
    }


def test_no_amount_means_no_salary_at_all() -> None:
    assert salary_fields(None, "n/a", "USD", "year") == {
        "salary_min": None,
        "salary_max": None,
        "salary_currency": None,
        "salary_period": None,
    }


def test_locations_are_deduplicated_case_insensitively_in_order() -> None:
    assert unique_texts([" Berlin ", "berlin", None, "", "Paris"]) == ["Berlin", "Paris"]
