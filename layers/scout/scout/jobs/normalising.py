"""Turning each ATS's spelling of dates, pay, job type and workplace into the posting's enums.

Every adapter calls these, so a quirk learnt on one board (``"FullTime"``, ``"per-hour-wage"``,
``"1 YEAR"``, epoch milliseconds) is handled the same way everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from scout.jobs.posting import EmploymentType, SalaryPeriod, WorkplaceType

# --- dates --------------------------------------------------------------------------------

# Epoch values above this are milliseconds (1e11 seconds is the year 5138).
_EPOCH_MILLIS_FLOOR = 100_000_000_000


def parse_timestamp(value: Any) -> datetime | None:
    """A UTC datetime from ISO 8601 text (offset, ``Z``, or none meaning UTC) or an epoch number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) >= _EPOCH_MILLIS_FLOOR else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return parse_timestamp(int(text))
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


_RELATIVE_POSTED = re.compile(
    r"^posted\s+(?:(?P<today>today|just now)|(?P<yesterday>yesterday)"
    r"|(?P<days>\d+)(?P<plus>\+)?\s+days?\s+ago)$",
    re.IGNORECASE,
)


def parse_relative_posted(text: Any, now: datetime) -> datetime | None:
    """Midnight UTC of the day a "Posted 3 Days Ago" label points to.

    An open-ended label ("Posted 30+ Days Ago") only bounds the date, so it gives None rather
    than a made-up day.
    """
    if not isinstance(text, str):
        return None
    match = _RELATIVE_POSTED.match(" ".join(text.split()))
    if match is None or match["plus"]:
        return None
    days_ago = 0 if match["today"] else 1 if match["yesterday"] else int(match["days"])
    day: date = (now.astimezone(UTC) - timedelta(days=days_ago)).date()
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# --- job type and workplace ----------------------------------------------------------------


def _words(text: str) -> str:
    """Lower-case letters only, words joined by single spaces: "Full-Time" -> "full time"."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)  # FullTime, OnSite
    return " ".join(re.findall(r"[a-z]+", spaced.lower()))


_EMPLOYMENT_WORDS: tuple[tuple[re.Pattern[str], EmploymentType], ...] = (
    (re.compile(r"\bintern(ship)?s?\b|\bworking student\b|\btrainee\b"), "intern"),
    (re.compile(r"\bpart time\b|\bparttime\b"), "part_time"),
    (re.compile(r"\bcontract(or|ors)?\b|\bfreelance(r)?\b|\bconsultant\b|\bper diem\b"), "contract"),
    (re.compile(r"\btemp(orary)?\b|\bseasonal\b|\bfixed term\b"), "temporary"),
    (re.compile(r"\bfull time\b|\bfulltime\b|\bpermanent\b|\bregular\b"), "full_time"),
)


def parse_employment_type(value: Any) -> EmploymentType | None:
    """The first recognisable job type in a string or a list of strings."""
    for text in _strings(value):
        words = _words(text)
        for pattern, kind in _EMPLOYMENT_WORDS:
            if pattern.search(words):
                return kind
    return None


_WORKPLACE_WORDS: tuple[tuple[re.Pattern[str], WorkplaceType], ...] = (
    (re.compile(r"\bhybrid\b"), "hybrid"),
    (
        re.compile(r"\bremote\b|\btelecommute\b|\bwork from home\b|\bwfh\b|\bhome based\b|\banywhere\b"),
        "remote",
    ),
    (re.compile(r"\bon ?site\b|\bin office\b|\bin person\b|\boffice based\b"), "onsite"),
)


def parse_workplace_type(value: Any) -> WorkplaceType | None:
    """Remote, hybrid or on-site from a label such as ``OnSite``, ``TELECOMMUTE``, ``Remote - US``."""
    for text in _strings(value):
        words = _words(text)
        for pattern, kind in _WORKPLACE_WORDS:
            if pattern.search(words):
                return kind
    return None


def workplace_fields(workplace: WorkplaceType | None, remote_flag: bool | None = None) -> dict[str, Any]:
    """``workplace_type`` and ``remote`` kept consistent; an explicit workplace wins over a flag."""
    if workplace is not None:
        return {"workplace_type": workplace, "remote": workplace == "remote"}
    if remote_flag:
        return {"workplace_type": "remote", "remote": True}
    return {"workplace_type": None, "remote": remote_flag}


_WORKPLACE_ONLY = re.compile(
    r"^(?:(?:fully|100%?)\s+)?(?:remote|hybrid|on[\s-]?site|in[\s-]office|anywhere|flexible)$", re.IGNORECASE
)


def is_workplace_only(text: str) -> bool:
    """True for a "location" that only names a workplace ("Hybrid", "Remote"), not a place."""
    return bool(_WORKPLACE_ONLY.match(text.strip(" .-()")))


# --- pay -----------------------------------------------------------------------------------

_PERIOD_WORDS: tuple[tuple[re.Pattern[str], SalaryPeriod], ...] = (
    (re.compile(r"\b(year|years|yearly|annual|annually|annum|yr)\b"), "year"),
    (re.compile(r"\b(month|months|monthly|mo)\b"), "month"),
    (re.compile(r"\b(week|weeks|weekly|wk)\b"), "week"),
    (re.compile(r"\b(day|days|daily)\b"), "day"),
    (re.compile(r"\b(hour|hours|hourly|hr)\b"), "hour"),
)


def parse_salary_period(value: Any) -> SalaryPeriod | None:
    """``YEAR``, ``per-hour-wage``, ``1 MONTH``, ``Annual`` ... -> the period.

    An interval of several units ("2 WEEK") is not one of the periods, so it gives None rather
    than a period that would misstate the amounts.
    """
    if not isinstance(value, str):
        return None
    count = re.match(r"^\s*(\d+(?:\.\d+)?)\s+", value)
    if count and float(count.group(1)) != 1:
        return None
    words = _words(value)
    for pattern, period in _PERIOD_WORDS:
        if pattern.search(words):
            return period
    return None


def parse_amount(value: Any) -> float | None:
    """A non-negative amount from a number or numeric text ("120,000.00"); None otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        amount = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", "").replace("_", "")
        if not re.fullmatch(r"\d+(\.\d+)?", text):
            return None
        amount = float(text)
    else:
        return None
    return amount if amount >= 0 and amount == amount and amount != float("inf") else None


def parse_currency(value: Any) -> str | None:
    if isinstance(value, str) and re.fullmatch(r"\s*[A-Za-z]{3}\s*", value):
        return value.strip().upper()
    return None


def salary_fields(minimum: Any, maximum: Any, currency: Any = None, period: Any = None) -> dict[str, Any]:
    """The four salary fields, with a lone bound used for both ends and a reversed range put right."""
    low, high = parse_amount(minimum), parse_amount(maximum)
    if low is None and high is None:
        return {"salary_min": None, "salary_max": None, "salary_currency": None, "salary_period": None}
    if low is not None and high is not None and low > high:
        low, high = high, low
    return {
        "salary_min": low,
        "salary_max": high,
        "salary_currency": parse_currency(currency),
        "salary_period": period if period in ("year", "month", "week", "day", "hour") else None,
    }


# --- locations and text -------------------------------------------------------------------


def clean_text(value: Any) -> str | None:
    """Stripped text with runs of whitespace collapsed; None for empty or non-text values."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text or None


def unique_texts(values: Iterable[Any]) -> list[str]:
    """Cleaned, non-empty texts in first-seen order, without case-insensitive repeats."""
    seen: set[str] = set()
    result: list[str] = []
    for value in values:
        text = clean_text(value)
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            result.append(text)
    return result


def display_location(locations: list[str]) -> str | None:
    return "; ".join(locations) if locations else None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str)]
    return []
