"""Schedules fire their function with EventBridge's event, now on request and then at their rate."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scout.local.environment import local_names
from scout.local.execution import Invocation
from scout.local.schedule import ScheduleRunner, scheduled_event
from scout.local.template import Template
from tests.support.local_stack import eventually


def schedule_named(template: Template, event_name: str) -> Any:
    return next(schedule for schedule in template.schedules if schedule.event_name == event_name)


def test_a_rule_without_input_sends_the_scheduled_event(fixture_template: Template) -> None:
    names = local_names(fixture_template, endpoint_url=None)
    event = scheduled_event(
        schedule_named(fixture_template, "EveryMinute"), names, datetime(2026, 1, 2, tzinfo=UTC)
    )
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["time"] == "2026-01-02T00:00:00Z"
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/TickFunctionEveryMinute"]
    assert event["detail"] == {}


def test_a_schedule_with_input_sends_exactly_the_input(fixture_template: Template) -> None:
    names = local_names(fixture_template, endpoint_url=None)
    assert scheduled_event(schedule_named(fixture_template, "Nightly"), names, datetime.now(UTC)) == {
        "job": "nightly"
    }


def test_fire_now_fires_once_then_waits_for_the_rate(fixture_template: Template) -> None:
    # Given a rate(1 minute) schedule started with fire-now
    events: list[Any] = []

    def function(event: Any) -> Invocation:
        events.append(event)
        return Invocation("r", payload={"ticked": True})

    runner = ScheduleRunner(
        schedule_named(fixture_template, "EveryMinute"),
        local_names(fixture_template, endpoint_url=None),
        function,
    )
    started = datetime.now(UTC)
    runner.start(fire_now=True)
    try:
        # Then it fires at once, and next a minute later
        eventually(lambda: runner.fired == 1 and runner.next_fire is not None, 10)
        assert runner.next_fire is not None
        assert 59 <= (runner.next_fire - started).total_seconds() <= 61
        assert events[0]["source"] == "aws.events"
    finally:
        runner.stop(drain_seconds=1)
    assert runner.fired == 1
