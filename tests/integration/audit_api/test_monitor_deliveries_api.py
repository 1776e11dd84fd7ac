"""GET /monitors/{monitor_id}/deliveries through the audit function's handler, over the test
database: every attempt, newest first, keyset paged; another owner's monitor is missing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import ModuleType

import psycopg
from psycopg.types.json import Jsonb

from tests.integration.audit_api.calls import call, get, get_json, token
from tests.support.http_events import http_event, json_body

WRITTEN = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def monitor_with_attempts(audit_function: ModuleType, database_url: str) -> tuple[str, list[tuple[str, int]]]:
    """A monitor of user-1 with two events: the run's finished event failed twice then was
    delivered, its regression event was refused once. Answers (event type, attempt) newest first."""
    created = call(
        audit_function,
        http_event(
            "POST",
            "/monitors",
            body={
                "name": "shop",
                "urls": ["https://example.com/"],
                "webhook_url": "https://example.com/hook",
            },
            token=token(),
        ),
    )
    assert created["statusCode"] == 201, created
    monitor_id = json_body(created)["id"]
    attempts = [
        ("monitor.run.finished", 1, "retry", None, {"code": "connection_failed", "message": "refused"}),
        (
            "monitor.run.finished",
            2,
            "retry",
            503,
            {"code": "http_error", "message": "the receiver answered 503"},
        ),
        (
            "monitor.regression",
            1,
            "retry",
            500,
            {"code": "http_error", "message": "the receiver answered 500"},
        ),
        ("monitor.run.finished", 3, "delivered", 200, None),
    ]
    with psycopg.connect(database_url, autocommit=True) as db:
        run_id = db.execute(
            """insert into public.monitor_runs (monitor_id, owner, trigger, status, finished_at)
               values (%s, 'user:user-1', 'manual', 'finished', now()) returning id""",
            (monitor_id,),
        ).fetchone()[0]  # type: ignore[index]
        events = {
            kind: db.execute(
                """insert into public.webhook_events (monitor_id, run_id, type, payload)
                   values (%s, %s, %s, '{}') returning id""",
                (monitor_id, run_id, kind),
            ).fetchone()[0]  # type: ignore[index]
            for kind in ("monitor.run.finished", "monitor.regression")
        }
        for minute, (kind, attempt, outcome, status, error) in enumerate(attempts):
            db.execute(
                """insert into public.webhook_deliveries
                   (event_id, monitor_id, attempt, outcome, status_code, error, duration_ms, attempted_at)
                   values (%s, %s, %s, %s, %s, %s, 12, %s)""",
                (
                    events[kind],
                    monitor_id,
                    attempt,
                    outcome,
                    status,
                    Jsonb(error) if error else None,
                    WRITTEN + timedelta(minutes=minute),
                ),
            )
    return monitor_id, [(kind, attempt) for kind, attempt, *_ in reversed(attempts)]


def test_every_attempt_is_listed_newest_first_a_page_at_a_time(
    audit_function: ModuleType, clean_database: str
) -> None:
    # Given a monitor whose events took four attempts
    monitor_id, newest_first = monitor_with_attempts(audit_function, clean_database)
    # When its owner lists the deliveries two at a time
    path = f"/monitors/{monitor_id}/deliveries"
    first = get_json(audit_function, path, as_token=token(), query={"limit": "2"})
    second = get_json(
        audit_function, path, as_token=token(), query={"limit": "2", "cursor": first["next_cursor"]}
    )
    # Then the pages hold every attempt once, newest first, and the list ends
    listed = first["items"] + second["items"]
    assert [(item["event_type"], item["attempt"]) for item in listed] == newest_first
    assert second["next_cursor"] is None
    # And each attempt says what happened
    latest, *_, oldest = listed
    assert (latest["outcome"], latest["status_code"], latest["error"]) == ("delivered", 200, None)
    assert oldest["error"]["code"] == "connection_failed"
    assert oldest["status_code"] is None
    assert oldest["duration_ms"] == 12
    assert latest["run_id"] == oldest["run_id"]
    assert latest["attempted_at"] > oldest["attempted_at"]


def test_another_owners_monitor_and_a_bad_cursor_are_refused(
    audit_function: ModuleType, clean_database: str
) -> None:
    # Given user-1's monitor with delivery attempts
    monitor_id, _ = monitor_with_attempts(audit_function, clean_database)
    path = f"/monitors/{monitor_id}/deliveries"
    # When another user asks for them, Then it is missing, as an unknown or malformed id is
    for asked in (
        path,
        "/monitors/00000000-0000-4000-8000-000000000000/deliveries",
        "/monitors/nope/deliveries",
    ):
        answer = get(audit_function, asked, as_token=token(subject="user-2"))
        assert answer["statusCode"] == 404, answer
        assert json_body(answer)["error"]["code"] == "not_found"
    # And a cursor that is not one is a 400, and no token a 401
    bad = get(audit_function, path, as_token=token(), query={"cursor": "not-a-cursor"})
    assert bad["statusCode"] == 400
    assert "cursor" in json_body(bad)["error"]["message"]
    assert call(audit_function, http_event("GET", path))["statusCode"] == 401
