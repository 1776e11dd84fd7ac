"""How call arguments are encoded, identically for both adapters."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time, timedelta, timezone
from uuid import UUID

import pytest

from scout.store.arguments import checked_identifier, encode_arguments, json_text, literal_text


class Ats(enum.StrEnum):
    GREENHOUSE = "greenhouse"


class Priority(enum.IntEnum):
    HIGH = 1


@pytest.mark.parametrize(
    ("value", "json_value"),
    [
        (None, None),
        (True, True),
        (3, 3),
        (1.5, 1.5),
        ("text", "text"),
        (Ats.GREENHOUSE, "greenhouse"),
        (Priority.HIGH, 1),
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "2026-01-02T03:04:05+00:00"),
        (datetime(2026, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=-5))), "2026-01-02T03:04:00-05:00"),
        (date(2026, 1, 2), "2026-01-02"),
        (time(9, 30), "09:30:00"),
        (UUID(int=5), "00000000-0000-0000-0000-000000000005"),
        ((1, "a"), [1, "a"]),
        ({"at": date(2026, 1, 2), "ids": [UUID(int=1)]}, {"at": "2026-01-02", "ids": [str(UUID(int=1))]}),
    ],
)
def test_each_supported_value_travels_as_its_json_value(value: object, json_value: object) -> None:
    assert encode_arguments({"arg": value}) == {"arg": json_value}


@pytest.mark.parametrize(
    ("json_value", "text"),
    [
        (None, None),
        ("plain", "plain"),
        (True, "true"),
        (12, "12"),
        (0.5, "0.5"),
        ({"a": [1, "ü"]}, '{"a":[1,"ü"]}'),
    ],
)
def test_postgres_reads_a_json_value_as_json_to_record_hands_it_over(
    json_value: object, text: str | None
) -> None:
    # A string loses its quotes; everything else is its compact JSON text; null is NULL.
    assert literal_text(json_value) == text  # type: ignore[arg-type]


def test_compact_json_matches_what_the_postgrest_client_posts() -> None:
    assert json_text({"a": [1, None], "b": "é"}) == '{"a":[1,null],"b":"é"}'


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (b"raw", TypeError),
        (object(), TypeError),
        ({("tuple", "key"): 1}, TypeError),
        (float("inf"), ValueError),
        (datetime(2026, 1, 2, 3, 4), ValueError),
        ([1, {"deep": float("nan")}], ValueError),
    ],
)
def test_a_value_without_a_faithful_json_form_is_refused(value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        encode_arguments({"arg": value})


@pytest.mark.parametrize("name", ["source_id", "_private", "a1", "x" * 63])
def test_plain_lower_case_identifiers_are_accepted(name: str) -> None:
    assert checked_identifier(name, "function name") == name


@pytest.mark.parametrize(
    "name", ["SourceId", "source-id", "1st", "", "a b", "public.fn", 'fn"', "x" * 64, None]
)
def test_anything_else_is_refused_as_a_name(name: object) -> None:
    with pytest.raises(ValueError, match="not a lower-case SQL identifier"):
        checked_identifier(name, "function name")


def test_argument_names_are_checked_too() -> None:
    with pytest.raises(ValueError, match="argument name 'Source'"):
        encode_arguments({"Source": 1})
