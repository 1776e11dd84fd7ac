"""EventBridge schedule expressions, parsed with AWS's rules and fired at the right minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scout.schedule_expressions import (
    ScheduleExpressionError,
    UnsupportedScheduleExpression,
    parse_schedule_expression,
)

NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday


def test_rate_fires_one_period_after_the_last_fire() -> None:
    expression = parse_schedule_expression("rate(5 minutes)")
    assert expression.next_after(NOON) == NOON + timedelta(minutes=5)


@pytest.mark.parametrize("text", ["rate(1 minutes)", "rate(5 minute)", "rate(0 hours)", "rate(2 weeks)"])
def test_rate_with_a_wrong_unit_or_value_is_refused(text: str) -> None:
    with pytest.raises(ScheduleExpressionError):
        parse_schedule_expression(text)


def test_cron_fires_at_the_next_matching_minute() -> None:
    expression = parse_schedule_expression("cron(0/15 9-17 ? * MON-FRI *)")
    assert expression.next_after(NOON) == datetime(2026, 11, 25, 12, 15, tzinfo=UTC)
    friday_evening = datetime(2026, 11, 27, 17, 50, tzinfo=UTC)
    assert expression.next_after(friday_evening) == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_cron_day_of_week_counts_sunday_as_one() -> None:
    expression = parse_schedule_expression("cron(0 8 ? * 1 *)")
    assert expression.next_after(NOON) == datetime(2026, 11, 29, 8, 0, tzinfo=UTC)  # Sunday


def test_cron_with_a_time_zone_fires_in_that_zone() -> None:
    expression = parse_schedule_expression("cron(0 9 * * ? *)", timezone="Europe/Paris")
    fire = expression.next_after(NOON)
    assert fire is not None
    assert fire.astimezone(UTC) == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def test_cron_needs_exactly_one_question_mark_day() -> None:
    with pytest.raises(ScheduleExpressionError, match="exactly one"):
        parse_schedule_expression("cron(0 9 * * * *)")


def test_cron_last_day_is_valid_but_not_run_locally() -> None:
    with pytest.raises(UnsupportedScheduleExpression):
        parse_schedule_expression("cron(0 9 L * ? *)")


def test_month_names_are_not_mistaken_for_unsupported_markers() -> None:
    expression = parse_schedule_expression("cron(0 0 1 JUL-DEC ? *)")
    assert expression.next_after(NOON) == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


def test_at_is_only_for_the_scheduler() -> None:
    with pytest.raises(ScheduleExpressionError):
        parse_schedule_expression("at(2030-01-01T00:00:00)")
    once = parse_schedule_expression("at(2030-01-01T00:00:00)", allow_at=True)
    assert once.next_after(NOON) == datetime(2030, 1, 1, tzinfo=UTC)
    assert once.next_after(datetime(2031, 1, 1, tzinfo=UTC)) is None
