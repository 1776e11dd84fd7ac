"""EventBridge schedule expressions: ``rate(...)``, ``cron(...)`` and (Scheduler only) ``at(...)``.

Parsed with AWS's rules so a template that would fail to deploy fails here first: a rate of 1
takes a singular unit and any other value a plural one; a cron has six fields and exactly one
of day-of-month and day-of-week is ``?``; day-of-week counts 1 = SUN to 7 = SAT.
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC_ZONE = ZoneInfo("UTC")
# How far ahead a cron is searched: far enough for "29 February" and year lists.
_SEARCH_DAYS = 366 * 8


class ScheduleExpressionError(ValueError):
    """The expression would be rejected by EventBridge."""


class UnsupportedScheduleExpression(ValueError):
    """Valid for EventBridge, but the local scheduler cannot run it (L, W, #)."""


@dataclass(frozen=True)
class ScheduleExpression:
    text: str

    def next_after(self, moment: datetime) -> datetime | None:
        """The first fire time strictly after ``moment`` (aware), or None if there is none."""
        raise NotImplementedError


@dataclass(frozen=True)
class RateExpression(ScheduleExpression):
    interval: timedelta

    def next_after(self, moment: datetime) -> datetime | None:
        return moment + self.interval


@dataclass(frozen=True)
class AtExpression(ScheduleExpression):
    when: datetime

    def next_after(self, moment: datetime) -> datetime | None:
        return self.when if self.when > moment else None


@dataclass(frozen=True)
class CronExpression(ScheduleExpression):
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days_of_month: frozenset[int] | None  # None: "?"
    months: frozenset[int]
    days_of_week: frozenset[int] | None  # AWS numbering, 1 = Sunday; None: "?"
    years: frozenset[int]
    zone: tzinfo

    def next_after(self, moment: datetime) -> datetime | None:
        local = moment.astimezone(self.zone)
        day = local.date()
        for _ in range(_SEARCH_DAYS):
            if self._day_matches(day.year, day.month, day.day, day.weekday()):
                for hour in self.hours:
                    for minute in self.minutes:
                        candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)
                        if candidate > local:
                            return candidate
            day += timedelta(days=1)
        return None

    def _day_matches(self, year: int, month: int, day: int, python_weekday: int) -> bool:
        if year not in self.years or month not in self.months:
            return False
        if self.days_of_month is not None and day not in self.days_of_month:
            return False
        aws_weekday = (python_weekday + 1) % 7 + 1
        return self.days_of_week is None or aws_weekday in self.days_of_week


_RATE = re.compile(r"^rate\(\s*(\d+)\s+([a-z]+)\s*\)$")
_RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {
    name: index
    for index, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
_WEEKDAYS = {name: index for index, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}
_ALL_NAMES = _MONTHS.keys() | _WEEKDAYS.keys()
_NAME = re.compile(r"[A-Z]{3}")


def parse_schedule_expression(
    text: str, *, timezone: str | None = None, allow_at: bool = False
) -> ScheduleExpression:
    expression = text.strip()
    zone = _zone(timezone)
    if expression.startswith("rate("):
        return _parse_rate(expression)
    if expression.startswith("cron(") and expression.endswith(")"):
        return _parse_cron(expression, zone)
    if allow_at and expression.startswith("at(") and expression.endswith(")"):
        try:
            when = datetime.fromisoformat(expression[3:-1].strip())
        except ValueError:
            raise ScheduleExpressionError(f"{text!r}: at() takes yyyy-mm-ddThh:mm:ss") from None
        return AtExpression(expression, when.replace(tzinfo=zone))
    kinds = "rate(...), cron(...) or at(...)" if allow_at else "rate(...) or cron(...)"
    raise ScheduleExpressionError(f"{text!r} is not a schedule expression: use {kinds}")


def _zone(name: str | None) -> tzinfo:
    if not name:
        return UTC_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleExpressionError(f"unknown time zone {name!r}") from None


def _parse_rate(expression: str) -> RateExpression:
    match = _RATE.match(expression)
    if match is None:
        raise ScheduleExpressionError(f"{expression!r}: a rate is rate(VALUE UNIT), e.g. rate(5 minutes)")
    value, unit = int(match.group(1)), match.group(2)
    singular = unit.removesuffix("s")
    if singular not in _RATE_UNITS or value < 1:
        raise ScheduleExpressionError(f"{expression!r}: the unit is minute(s), hour(s) or day(s), value >= 1")
    if (value == 1) != (unit == singular):
        raise ScheduleExpressionError(
            f"{expression!r}: EventBridge wants a singular unit for 1 and a plural one otherwise"
        )
    return RateExpression(expression, timedelta(seconds=value * _RATE_UNITS[singular]))


def _parse_cron(expression: str, zone: tzinfo) -> CronExpression:
    fields = expression[5:-1].split()
    if len(fields) != 6:
        raise ScheduleExpressionError(
            f"{expression!r}: a cron has six fields (minutes hours day-of-month month day-of-week year)"
        )
    minute_text, hour_text, dom_text, month_text, dow_text, year_text = fields
    for field in fields:
        without_names = _NAME.sub(lambda match: "" if match.group(0) in _ALL_NAMES else "?", field.upper())
        if any(marker in without_names for marker in ("L", "W", "#")):
            raise UnsupportedScheduleExpression(
                f"{expression!r}: L, W and # are valid for EventBridge but not run by the local scheduler"
            )
    if (dom_text == "?") == (dow_text == "?"):
        raise ScheduleExpressionError(
            f"{expression!r}: exactly one of day-of-month and day-of-week must be '?'"
        )
    days_of_month = None if dom_text == "?" else _parse_field(dom_text, 1, 31, {}, expression)
    days_of_week = None if dow_text == "?" else _parse_field(dow_text, 1, 7, _WEEKDAYS, expression)
    return CronExpression(
        expression,
        minutes=tuple(sorted(_parse_field(minute_text, 0, 59, {}, expression))),
        hours=tuple(sorted(_parse_field(hour_text, 0, 23, {}, expression))),
        days_of_month=days_of_month,
        months=_parse_field(month_text, 1, 12, _MONTHS, expression),
        days_of_week=days_of_week,
        years=_parse_field(year_text, 1970, 2199, {}, expression),
        zone=zone,
    )


def _parse_field(text: str, low: int, high: int, names: dict[str, int], expression: str) -> frozenset[int]:
    def number(token: str) -> int:
        value = names.get(token.upper()) if not token.isdigit() else int(token)
        if value is None or not low <= value <= high:
            raise ScheduleExpressionError(f"{expression!r}: {token!r} is outside {low}-{high}")
        return value

    values: set[int] = set()
    for item in text.split(","):
        base, _, step_text = item.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) < 1:
                raise ScheduleExpressionError(f"{expression!r}: bad step in {item!r}")
            step = int(step_text)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = number(first), number(last)
            if start > end:
                raise ScheduleExpressionError(f"{expression!r}: range {base!r} runs backwards")
        else:
            start = number(base)
            end = high if step_text else start
        values.update(range(start, end + 1, step))
    return frozenset(values)
