"""The poll worker: an SQS batch of poll requests, each source fetched and synced concurrently."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import psycopg
import pytest

from scout.settings import load_settings
from scout.store import get_store
from tests.integration.jobs_api.support import (
    CallCountingStore,
    FakeAtsServer,
    FakeLambdaContext,
    PollQueues,
    add_source,
    poll_with_worker,
    posting,
    runs_of,
    serve_fake_ats,
    sync,
)
from tests.support.ats_payloads import ashby_job, greenhouse_job, lever_posting
from tests.support.fake_ats import FakeAts
from tests.support.functions import ROOT
from tests.support.http_server import Fault
from tests.support.wiring import serving_environment

Sql = psycopg.Connection[dict[str, Any]]


@pytest.fixture
def counted_store(jobs_env: pytest.MonkeyPatch) -> Iterator[CallCountingStore]:
    """The worker's store, wrapped to count each SQL function call."""
    store = CallCountingStore(get_store(load_settings()))
    with serving_environment(store=store):
        yield store


def enqueue(queues: PollQueues, *requests: dict[str, Any] | str) -> list[dict[str, Any]]:
    """Put poll requests (or raw bodies) on the queue and receive them back, as Lambda would."""
    for body in requests:
        queues.client.send_message(
            QueueUrl=queues.url, MessageBody=body if isinstance(body, str) else json.dumps(body)
        )
    return queues.receive_all()


poll = poll_with_worker


def source_row(sql: Sql, source_id: str) -> dict[str, Any]:
    row = sql.execute("select * from public.sources where id = %s", [source_id]).fetchone()
    assert row is not None
    return row


def test_each_source_of_a_batch_is_fetched_and_synced_in_one_store_call(
    worker: ModuleType,
    fake_ats: FakeAtsServer,
    poll_queue: PollQueues,
    sql: Sql,
    counted_store: CallCountingStore,
) -> None:
    # Given three sources on three ATS kinds, each board with postings
    fake_ats.fake.greenhouse["acme"] = [greenhouse_job(n) for n in range(3)]
    fake_ats.fake.lever["globex"] = [lever_posting(n, "globex") for n in range(2)]
    fake_ats.fake.ashby["initech"] = [ashby_job(n, "initech") for n in range(4)]
    sources = {
        add_source(sql, ats="greenhouse", board="acme"): 3,
        add_source(sql, ats="lever", board="globex", company="Globex"): 2,
        add_source(sql, ats="ashby", board="initech", company="Initech"): 4,
    }
    messages = enqueue(
        poll_queue,
        *(
            {"source_id": source_id, "ats": row["ats"], "board": row["board"]}
            for source_id in sources
            for row in [source_row(sql, source_id)]
        ),
    )
    # When the worker gets them as one batch
    response = poll(worker, poll_queue, messages)
    # Then no message is reported for retry, each source has a run with its postings,
    # and each took exactly one store call
    assert response == {"batchItemFailures": []}
    for source_id, count in sources.items():
        [run] = runs_of(sql, source_id)
        assert (run["status"], run["complete"], run["fetched"], run["upserted"]) == (
            "succeeded",
            True,
            count,
            count,
        )
        assert source_row(sql, source_id)["active_postings"] == count
    assert counted_store.calls == ["sync_source_postings"] * 3


def test_the_sources_of_a_batch_are_polled_concurrently(
    worker: ModuleType, jobs_env: pytest.MonkeyPatch, poll_queue: PollQueues, sql: Sql
) -> None:
    # Given four boards on an ATS that holds each request until four are in flight at once
    boards = [f"board{n}" for n in range(4)]
    fake = FakeAts(greenhouse={board: [greenhouse_job(1, board)] for board in boards})
    with serve_fake_ats(fake, jobs_env, hold_until_in_flight=4, hold_timeout=5.0) as served:
        ids = [add_source(sql, board=board, company=board) for board in boards]
        messages = enqueue(
            poll_queue,
            *(
                {"source_id": source_id, "ats": "greenhouse", "board": board}
                for source_id, board in zip(ids, boards, strict=True)
            ),
        )
        # When the worker polls the batch
        response = poll(worker, poll_queue, messages)
        # Then all four fetches were in flight together
        assert served.server.stats.max_in_flight == 4
    assert response == {"batchItemFailures": []}
    assert all(runs_of(sql, source_id)[0]["status"] == "succeeded" for source_id in ids)


def test_a_failed_fetch_is_recorded_backs_the_source_off_and_keeps_its_postings(
    worker: ModuleType, fake_ats: FakeAtsServer, poll_queue: PollQueues, sql: Sql
) -> None:
    # Given a source with active postings whose board now answers 404
    source_id = add_source(sql, board="gone")
    sync(sql, source_id, [posting(1), posting(2)])
    before = source_row(sql, source_id)
    messages = enqueue(poll_queue, {"source_id": source_id, "ats": "greenhouse", "board": "gone"})
    # When the worker polls it
    response = poll(worker, poll_queue, messages)
    # Then the message is done with (no retry), the run says why, the source is backed off
    # but still enabled, and no posting changed
    assert response == {"batchItemFailures": []}
    run = runs_of(sql, source_id)[0]
    assert run["status"] == "failed"
    assert run["error"]["code"] == "ats_not_found"
    after = source_row(sql, source_id)
    assert after["enabled"] is True
    assert after["consecutive_failures"] == 1
    assert after["last_error"]["code"] == "ats_not_found"
    assert after["next_poll_at"] > before["next_poll_at"]
    assert after["active_postings"] == 2


def test_an_incomplete_fetch_archives_nothing(
    worker: ModuleType, fake_ats: FakeAtsServer, poll_queue: PollQueues, sql: Sql
) -> None:
    # Given a source whose board now lists one posting of two, but with a total that does not add up
    source_id = add_source(sql)
    sync(sql, source_id, [posting(n, external_id=str(4000000 + n)) for n in range(2)])
    fake_ats.fake.greenhouse["acme"] = [greenhouse_job(0)]
    fake_ats.fake.greenhouse_total_drift = 1
    # When the worker polls it three times
    for _ in range(3):
        response = poll(
            worker,
            poll_queue,
            enqueue(poll_queue, {"source_id": source_id, "ats": "greenhouse", "board": "acme"}),
        )
        assert response == {"batchItemFailures": []}
    # Then each run is marked incomplete, held back by its guard, and nothing was archived
    runs = runs_of(sql, source_id)[:3]
    assert [(run["complete"], run["guard"], run["archived"]) for run in runs] == [
        (False, "incomplete_fetch", 0)
    ] * 3
    assert source_row(sql, source_id)["active_postings"] == 2


def test_a_fetch_past_its_deadline_is_recorded_as_a_timeout(
    worker: ModuleType,
    fake_ats: FakeAtsServer,
    poll_queue: PollQueues,
    sql: Sql,
    jobs_env: pytest.MonkeyPatch,
    rewire: Callable[[], None],
) -> None:
    # Given a board that stalls longer than the poll deadline
    jobs_env.setenv("POLL_DEADLINE_SECONDS", "0.3")
    rewire()
    fake_ats.fake.greenhouse["slow"] = [greenhouse_job(1, "slow")]
    fake_ats.server.inject(Fault(path="/v1/boards/slow/jobs", kind="stall", seconds=3.0, times=5))
    source_id = add_source(sql, board="slow")
    # When the worker polls it
    response = poll(
        worker,
        poll_queue,
        enqueue(poll_queue, {"source_id": source_id, "ats": "greenhouse", "board": "slow"}),
    )
    # Then the run failed with a timeout and the message is done with
    assert response == {"batchItemFailures": []}
    assert runs_of(sql, source_id)[0]["error"]["code"] == "ats_timeout"


def test_a_source_deleted_after_it_was_queued_is_dropped_not_retried(
    worker: ModuleType, fake_ats: FakeAtsServer, poll_queue: PollQueues, sql: Sql
) -> None:
    fake_ats.fake.greenhouse["acme"] = [greenhouse_job(1)]
    messages = enqueue(
        poll_queue,
        {"source_id": "6f1c2b7e-0000-4000-8000-000000000000", "ats": "greenhouse", "board": "acme"},
    )
    response = poll(worker, poll_queue, messages)
    assert response == {"batchItemFailures": []}
    assert sql.execute("select count(*) as runs from public.poll_runs").fetchone() == {"runs": 0}


def test_only_an_unreadable_message_is_reported_for_retry(
    worker: ModuleType, fake_ats: FakeAtsServer, poll_queue: PollQueues, sql: Sql
) -> None:
    # Given a batch holding one good poll request and one message that is not one
    fake_ats.fake.greenhouse["acme"] = [greenhouse_job(1)]
    source_id = add_source(sql)
    messages = enqueue(
        poll_queue, {"source_id": source_id, "ats": "greenhouse", "board": "acme"}, "{not json"
    )
    bad = next(message for message in messages if message["Body"] == "{not json")
    # When the worker processes the batch
    response = poll(worker, poll_queue, messages)
    # Then only the unreadable message comes back, and the good one was polled
    assert response == {"batchItemFailures": [{"itemIdentifier": bad["MessageId"]}]}
    assert runs_of(sql, source_id)[0]["status"] == "succeeded"


def test_the_sample_batch_event_polls_its_sources(
    worker: ModuleType, fake_ats: FakeAtsServer, sql: Sql
) -> None:
    # Given the sources the sample event names, on a fake ATS
    event = json.loads((ROOT / "events" / "poll_worker_batch.json").read_text())
    requests = [json.loads(record["body"]) for record in event["Records"]]
    for request in requests:
        add_source(sql, ats=request["ats"], board=request["board"], id=request["source_id"])
    fake_ats.fake.greenhouse["acme"] = [greenhouse_job(n) for n in range(2)]
    fake_ats.fake.lever["acme"] = [lever_posting(n) for n in range(3)]
    # When the worker is invoked with it
    response = worker.handler(event, FakeLambdaContext("PollWorkerFunction"))
    # Then every source was polled
    assert response == {"batchItemFailures": []}
    assert [runs_of(sql, request["source_id"])[0]["fetched"] for request in requests] == [2, 3]
