"""Polls are never lost: a claimed poll is a running run until a worker records it, and an
attempt that never finished is closed as failed (worker_lost) with the retry a run of its own.

In-process, over real Postgres and a moto queue; tests/e2e/test_poll_worker_killed.py kills a
real worker process mid-poll.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import psycopg

from scout.settings import load_settings
from tests.integration.jobs_api.support import (
    FakeAtsServer,
    PollQueues,
    add_source,
    poll_with_worker,
    runs_of,
    tick_scheduler,
)
from tests.support.ats_payloads import greenhouse_job

Sql = psycopg.Connection[dict[str, Any]]


def redeliver(queues: PollQueues, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages back on the queue at once, as after their visibility timeout."""
    for message in messages:
        queues.client.change_message_visibility(
            QueueUrl=queues.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    return queues.receive_all()


def test_a_claimed_poll_is_running_until_the_worker_records_it(
    scheduler: ModuleType, worker: ModuleType, fake_ats: FakeAtsServer, poll_queue: PollQueues, sql: Sql
) -> None:
    # Given a due source whose board lists two postings
    fake_ats.fake.greenhouse["acme"] = [greenhouse_job(1), greenhouse_job(2)]
    source_id = add_source(sql)
    # When the schedule claims it
    tick_scheduler(scheduler)
    # Then it has a running run, not finished, before any worker took it
    [running] = runs_of(sql, source_id)
    assert (running["status"], running["finished_at"]) == ("running", None)
    # And when the worker polls it, that run is replaced by the recorded one
    assert poll_with_worker(worker, poll_queue, poll_queue.receive_all()) == {"batchItemFailures": []}
    [recorded] = runs_of(sql, source_id)
    assert (recorded["status"], recorded["fetched"]) == ("succeeded", 2)
    assert recorded["finished_at"] is not None


def test_a_redelivered_poll_closes_the_lost_attempt_as_failed_and_records_its_own_run(
    scheduler: ModuleType, worker: ModuleType, fake_ats: FakeAtsServer, poll_queue: PollQueues, sql: Sql
) -> None:
    # Given a claimed source whose first delivery was taken by a worker that then died
    fake_ats.fake.greenhouse["acme"] = [greenhouse_job(1)]
    source_id = add_source(sql)
    tick_scheduler(scheduler)
    first_delivery = poll_queue.receive_all()
    # When the message comes back and a worker polls it
    retry = redeliver(poll_queue, first_delivery)
    assert retry[0]["Attributes"]["ApproximateReceiveCount"] == "2"
    assert poll_with_worker(worker, poll_queue, retry) == {"batchItemFailures": []}
    # Then the lost attempt is a failed run saying so, and the retry a succeeded run of its own
    succeeded, lost = runs_of(sql, source_id)
    assert (lost["status"], lost["error"]["code"]) == ("failed", "worker_lost")
    assert lost["finished_at"] is not None
    assert (succeeded["status"], succeeded["fetched"]) == ("succeeded", 1)
    assert succeeded["started_at"] > lost["started_at"]


def test_a_source_claimed_again_after_its_lease_closes_the_run_whose_message_never_came_back(
    scheduler: ModuleType, poll_queue: PollQueues, sql: Sql
) -> None:
    # Given a source claimed long ago whose message was lost (a running run older than the lease)
    lease = load_settings().poll_lease_seconds
    source_id = add_source(sql)
    sql.execute(
        "insert into public.poll_runs (source_id, status, complete, started_at, finished_at)"
        " values (%s, 'running', false, %s, null)",
        [source_id, datetime.now(UTC) - timedelta(seconds=lease + 60)],
    )
    # When the schedule claims it again
    tick_scheduler(scheduler)
    # Then the old run is closed as failed (worker_lost) and the new claim is running
    new, old = runs_of(sql, source_id)
    assert (old["status"], old["error"]["code"]) == ("failed", "worker_lost")
    assert (new["status"], new["finished_at"]) == ("running", None)


def test_polls_the_queue_refused_leave_no_running_run(
    scheduler: ModuleType, poll_queue: PollQueues, sql: Sql
) -> None:
    # Given a due source and a queue that no longer exists
    source_id = add_source(sql)
    poll_queue.client.delete_queue(QueueUrl=poll_queue.url)
    # When the schedule claims it, then the queue refuses it and it is withdrawn
    report = tick_scheduler(scheduler)
    assert report["released"] == 1
    # Then no run was left behind and the source is due again
    assert runs_of(sql, source_id) == []
