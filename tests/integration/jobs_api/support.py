"""Calling the jobs API in-process, and putting sources and postings in the database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import psycopg
import pytest
from psycopg.sql import SQL, Identifier, Placeholder

from tests.support.fake_ats import FakeAts
from tests.support.functions import ROOT
from tests.support.http_events import http_event, json_body
from tests.support.http_server import LoopbackServer, run_in_thread
from tests.support.local_stack import ATS_BASE_URL_SETTINGS
from tests.support.wiring import serving_environment

EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def request(api: ModuleType, method: str, path: str, **options: Any) -> tuple[int, Any]:
    """Send one API Gateway event through the resolver; the status and decoded body."""
    response = api.app.resolve(http_event(method, path, **options), {})
    return response["statusCode"], json_body(response)


def posting(n: int, **fields: Any) -> dict[str, Any]:
    """A normalised posting, posted ``n`` hours after EPOCH unless told otherwise."""
    values: dict[str, Any] = {
        "ats": "greenhouse",
        "board": "acme",
        "external_id": f"job-{n}",
        "title": f"Software Engineer {n}",
        "url": f"https://boards.greenhouse.io/acme/jobs/{n}",
        "apply_url": None,
        "location": "Berlin, Germany",
        "locations": ["Berlin, Germany"],
        "workplace_type": "onsite",
        "remote": False,
        "department": "Engineering",
        "team": None,
        "employment_type": "full_time",
        "posted_at": (EPOCH + timedelta(hours=n)).isoformat(),
        "updated_at": None,
        "description_html": "<p>Build things.</p>",
        "description_text": "Build things.",
        "salary_min": None,
        "salary_max": None,
        "salary_currency": None,
        "salary_period": None,
    }
    values.update(fields)
    return values


def add_source(
    sql: psycopg.Connection[dict[str, Any]],
    *,
    ats: str = "greenhouse",
    board: str = "acme",
    company: str = "Acme",
    **columns: Any,
) -> str:
    names = ["ats", "board", "company", *columns]
    statement = SQL("insert into public.sources ({}) values ({}) returning id").format(
        SQL(", ").join(map(Identifier, names)), SQL(", ").join([Placeholder()] * len(names))
    )
    row = sql.execute(statement, [ats, board, company, *columns.values()]).fetchone()
    assert row is not None
    return str(row["id"])


def sync(
    sql: psycopg.Connection[dict[str, Any]],
    source_id: str,
    postings: list[dict[str, Any]],
    *,
    complete: bool = True,
) -> dict[str, Any]:
    """Record a successful fetch of ``postings`` for the source, as the poll worker does."""
    result = {
        "status": "succeeded",
        "complete": complete,
        "postings": postings,
        "started_at": datetime.now(UTC).isoformat(),
    }
    row = sql.execute(
        "select public.sync_source_postings(%s, %s::jsonb) as run", [source_id, json.dumps(result)]
    ).fetchone()
    assert row is not None
    run: dict[str, Any] = row["run"]
    return run


class FakeLambdaContext:
    """The parts of Lambda's context object the functions read."""

    def __init__(self, function_name: str, remaining_ms: int = 90_000) -> None:
        self.function_name = function_name
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.aws_request_id = "c0ffee00-0000-4000-8000-000000000001"
        self._remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self._remaining_ms


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The event Lambda's SQS event source hands the worker for messages received from a queue."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for message in messages
        ]
    }


class CallCountingStore:
    """Wraps the real store and counts its calls per SQL function (a call is one round trip)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.calls: list[str] = []

    @property
    def round_trips(self) -> int:
        return len(self.calls)

    async def call(self, function: str, /, **args: Any) -> Any:
        self.calls.append(function)
        return await self.store.call(function, **args)

    async def aclose(self) -> None:
        await self.store.aclose()


@dataclass
class FakeAtsServer:
    fake: FakeAts
    server: LoopbackServer

    @property
    def url(self) -> str:
        return self.server.url


@contextmanager
def serve_fake_ats(fake: FakeAts, env: pytest.MonkeyPatch, **server_options: Any) -> Iterator[FakeAtsServer]:
    """Serve ``fake`` from its own thread, with every ATS base URL setting pointing at it."""
    with run_in_thread(fake.server(**server_options)) as server:
        for name in ATS_BASE_URL_SETTINGS:
            env.setenv(name, server.url)
        with serving_environment():
            yield FakeAtsServer(fake, server)


@dataclass
class PollQueues:
    client: Any
    url: str
    arn: str
    dead_letter_url: str

    def receive_all(self) -> list[dict[str, Any]]:
        """Every message now on the poll queue (received, so hidden from further receives)."""
        messages: list[dict[str, Any]] = []
        for _ in range(100):
            answer = self.client.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
            )
            batch = answer.get("Messages", [])
            if not batch:
                break
            messages.extend(batch)
        return messages


def poll_with_worker(
    worker: ModuleType, queues: PollQueues, messages: list[dict[str, Any]]
) -> dict[str, Any]:
    """The poll worker's handler called with ``messages`` as Lambda's SQS source would."""
    response: dict[str, Any] = worker.handler(
        sqs_event(messages, queues.arn), FakeLambdaContext("PollWorkerFunction")
    )
    return response


def tick_scheduler(scheduler: ModuleType) -> dict[str, int]:
    """One firing of the poll schedule (the sample scheduled event)."""
    event = json.loads((ROOT / "events" / "poll_scheduler_schedule.json").read_text())
    report: dict[str, int] = scheduler.handler(event, FakeLambdaContext("PollSchedulerFunction"))
    return report


def runs_of(sql: psycopg.Connection[dict[str, Any]], source_id: str) -> list[dict[str, Any]]:
    """A source's poll runs, newest first."""
    return sql.execute(
        "select * from public.poll_runs where source_id = %s order by started_at desc, finished_at desc",
        [source_id],
    ).fetchall()
