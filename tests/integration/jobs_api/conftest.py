"""The jobs API, poll scheduler and poll worker against real Postgres, a fake ATS and moto SQS.

Routes and handlers run synchronously, as Lambda calls them, each on the process's one loop
(``scout.runtime``); so the tests here are plain functions. The fake ATS serves from its own
thread. Fixtures:

``jobs_env``    the environment every function reads (a clean database, secrets, hosts)
``fake_ats``    a FakeAts served on 127.0.0.1, every ATS base URL pointing at it
``poll_queue``  a moto SQS poll queue (with its dead-letter queue), POLL_QUEUE_URL set
``jobs_api``    the jobs function's routes, served with that environment
``admin_token`` a bearer token the admin routes accept
``scheduler``, ``worker``  the poll scheduler's and poll worker's function modules
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from scout.auth import Strategy, mint, policies
from scout.settings import load_settings
from tests.integration.jobs_api.support import FakeAtsServer, PollQueues, serve_fake_ats
from tests.support.fake_ats import FakeAts
from tests.support.functions import load_function
from tests.support.wiring import serving_environment

ADMIN_SECRET = "admin-secret-for-jobs-api-tests-0123456789"
USER_SECRET = "user-secret-for-jobs-api-tests-01234567890"


@pytest.fixture
def jobs_env(clean_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Given the functions' environment, over a clean, migrated database."""
    for name, value in {
        "ALLOWED_HOSTS": "localhost",
        "ADMIN_SESSION_SECRET": ADMIN_SECRET,
        "SUPABASE_JWT_SECRET": USER_SECRET,
        "SCOUT_STORE": "postgres",
        "DATABASE_URL": clean_database,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "scout",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "POLL_QUEUE_URL", "SCOUT_EGRESS_ALLOW"):
        monkeypatch.delenv(name, raising=False)
    with serving_environment():
        yield monkeypatch


@pytest.fixture
def fake_ats(jobs_env: pytest.MonkeyPatch) -> Iterator[FakeAtsServer]:
    """Given a fake ATS on 127.0.0.1 that every ATS base URL points at (boards start empty)."""
    with serve_fake_ats(FakeAts(), jobs_env) as served:
        yield served


@pytest.fixture
def poll_queue(jobs_env: pytest.MonkeyPatch) -> Iterator[PollQueues]:
    """Given a poll queue with a dead-letter queue on moto, and POLL_QUEUE_URL naming it."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("sqs")
        dead_letter_url = client.create_queue(QueueName="poll-dlq")["QueueUrl"]
        dead_letter_arn = client.get_queue_attributes(QueueUrl=dead_letter_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        queue_url = client.create_queue(
            QueueName="poll",
            Attributes={
                "VisibilityTimeout": "540",
                "RedrivePolicy": f'{{"deadLetterTargetArn": "{dead_letter_arn}", "maxReceiveCount": "5"}}',
            },
        )["QueueUrl"]
        arn = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        jobs_env.setenv("POLL_QUEUE_URL", queue_url)
        # A poll queue (and its SQS client) of its own, inside this mocked AWS.
        with serving_environment():
            yield PollQueues(client, queue_url, arn, dead_letter_url)


@pytest.fixture
def scheduler(jobs_env: pytest.MonkeyPatch) -> ModuleType:
    return load_function("poll_scheduler")


@pytest.fixture
def worker(jobs_env: pytest.MonkeyPatch) -> ModuleType:
    return load_function("poll_worker")


@pytest.fixture
def jobs_api(jobs_env: pytest.MonkeyPatch) -> ModuleType:
    """The jobs API module; its routes are served with this test's environment."""
    return importlib.import_module("scout.jobs.api")


@pytest.fixture
def admin_token(jobs_env: pytest.MonkeyPatch) -> str:
    return mint(policies(load_settings())[Strategy.ADMIN], "admin@scout.test")


@pytest.fixture
def user_token(jobs_env: pytest.MonkeyPatch) -> str:
    return mint(policies(load_settings())[Strategy.USER], "user-1")


@pytest.fixture
def sql(clean_database: str) -> Iterator[psycopg.Connection[dict[str, Any]]]:
    """A plain connection for a test's Given and Then SQL."""
    with psycopg.connect(clean_database, autocommit=True, row_factory=dict_row) as conn:
        yield conn
