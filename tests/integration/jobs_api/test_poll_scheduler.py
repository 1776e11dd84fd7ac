"""The poll scheduler: due sources claimed (leased) and put on the poll queue in batches."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import psycopg
import pytest

from tests.integration.jobs_api.support import FakeLambdaContext, PollQueues, add_source
from tests.support.functions import ROOT

Sql = psycopg.Connection[dict[str, Any]]
SCHEDULE_EVENT = json.loads((ROOT / "events" / "poll_scheduler_schedule.json").read_text())


def tick(scheduler: ModuleType) -> dict[str, int]:
    report: dict[str, int] = scheduler.handler(SCHEDULE_EVENT, FakeLambdaContext("PollSchedulerFunction"))
    return report


def queued_bodies(queues: PollQueues) -> list[dict[str, Any]]:
    return [json.loads(message["Body"]) for message in queues.receive_all()]


def test_due_sources_are_enqueued_with_their_boards_and_others_are_not(
    scheduler: ModuleType, poll_queue: PollQueues, sql: Sql
) -> None:
    # Given two due sources, one polled recently (not due) and one switched off
    due = {
        add_source(sql, ats="greenhouse", board="acme"),
        add_source(sql, ats="workday", board="https://acme.wd5.myworkdayjobs.com/External", company="Acme"),
    }
    add_source(sql, board="later", next_poll_at=datetime.now(UTC) + timedelta(minutes=10))
    add_source(sql, board="off", enabled=False)
    # When the schedule fires (the sample scheduled event)
    report = tick(scheduler)
    # Then exactly the due sources are on the queue, each message carrying its board
    assert report == {"claimed": 2, "enqueued": 2, "released": 0}
    bodies = queued_bodies(poll_queue)
    assert {body["source_id"] for body in bodies} == due
    assert {(body["ats"], body["board"]) for body in bodies} == {
        ("greenhouse", "acme"),
        ("workday", "https://acme.wd5.myworkdayjobs.com/External"),
    }


def test_a_claimed_source_is_not_enqueued_again_while_its_message_waits(
    scheduler: ModuleType, poll_queue: PollQueues, sql: Sql
) -> None:
    add_source(sql)
    assert tick(scheduler)["enqueued"] == 1
    # When the schedule fires again before the worker has polled it
    report = tick(scheduler)
    # Then nothing is enqueued twice
    assert report == {"claimed": 0, "enqueued": 0, "released": 0}
    assert len(poll_queue.receive_all()) == 1


def test_a_backlog_larger_than_a_claim_is_enqueued_in_full(
    scheduler: ModuleType, poll_queue: PollQueues, sql: Sql
) -> None:
    # Given more due sources than one claim takes (and than one SendMessageBatch carries)
    sql.execute(
        "insert into public.sources (ats, board, company)"
        " select 'greenhouse', 'board' || n, 'Company ' || n from generate_series(1, 130) as n"
    )
    # When the schedule fires
    report = tick(scheduler)
    # Then every one of them is on the queue, once
    assert report == {"claimed": 130, "enqueued": 130, "released": 0}
    assert len({body["source_id"] for body in queued_bodies(poll_queue)}) == 130


def test_sources_the_queue_refuses_are_due_again_at_once(
    scheduler: ModuleType,
    poll_queue: PollQueues,
    sql: Sql,
    jobs_env: pytest.MonkeyPatch,
    rewire: Callable[[], None],
) -> None:
    # Given a poll queue URL that names no queue
    jobs_env.setenv("POLL_QUEUE_URL", poll_queue.url.replace("/poll", "/missing"))
    rewire()
    source_id = add_source(sql)
    # When the schedule fires
    report = tick(scheduler)
    # Then the claim is released, so the source stays due for the next tick
    assert report == {"claimed": 1, "enqueued": 0, "released": 1}
    row = sql.execute(
        "select next_poll_at <= now() as due from public.sources where id = %s", [source_id]
    ).fetchone()
    assert row == {"due": True}
