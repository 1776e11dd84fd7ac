"""The monitor scheduler: due monitors claimed (leased), planned and their scans queued."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import psycopg

from tests.integration.audit_api.calls import call, token
from tests.integration.audit_api.conftest import LocalAws
from tests.support.functions import ROOT, load_function
from tests.support.http_events import http_event, json_body

SCHEDULE_EVENT = json.loads((ROOT / "events" / "monitor_scheduler_schedule.json").read_text())


class SchedulerContext:
    function_name = "MonitorSchedulerFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:MonitorSchedulerFunction"
    aws_request_id = "req-1"


def make_monitor(audit_function: ModuleType, **fields: Any) -> str:
    body = {"name": "shop", "urls": ["https://example.com/", "https://shop.example.org/"], **fields}
    response = call(audit_function, http_event("POST", "/monitors", body=body, token=token()))
    assert response["statusCode"] == 201, response
    return str(json_body(response)["id"])


def test_a_due_monitor_is_planned_once_and_its_next_run_moves_on(
    audit_function: ModuleType, local_aws: LocalAws, clean_database: str
) -> None:
    # Given a daily monitor made due, and a monitor with no schedule
    due = make_monitor(audit_function, schedule="rate(1 day)")
    make_monitor(audit_function)
    with psycopg.connect(clean_database) as sql:
        sql.execute(
            "update public.monitors set next_run_at = now() - interval '1 minute' where id = %s", (due,)
        )
    scheduler = load_function("monitor_scheduler")
    # When the schedule fires (the sample event)
    report = scheduler.handler(SCHEDULE_EVENT, SchedulerContext())
    # Then the due monitor alone is planned, its two pages queued in their hosts' groups
    assert report == {"claimed": 1, "planned": 1, "failed_plans": 0, "errors": 0, "resent": 0}
    groups = sorted(message["Attributes"]["MessageGroupId"] for message in local_aws.messages())
    assert groups == ["example.com", "shop.example.org"]
    with psycopg.connect(clean_database) as sql:
        row = sql.execute(
            "select next_run_at > now() + interval '23 hours' as moved_on, "
            "(select trigger from public.monitor_runs where monitor_id = m.id) as trigger "
            "from public.monitors m where id = %s",
            (due,),
        ).fetchone()
    assert row == (True, "schedule")
    # And a second tick right after finds nothing due
    assert scheduler.handler(SCHEDULE_EVENT, SchedulerContext())["claimed"] == 0
