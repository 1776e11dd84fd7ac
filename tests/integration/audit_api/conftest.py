"""Audit integration fixtures: moto's server on loopback for SQS and S3, and the audit
function's services over the test database."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from uuid import uuid4

import boto3
import pytest
from botocore.config import Config

from scout import deps, runtime
from scout.audit import scans
from scout.audit.artifacts import S3ArtifactStore
from scout.audit.scan_processing import WorkOutcome, handle_scan_message
from scout.audit.scan_queue import SqsScanQueue
from scout.deps import Dependencies
from scout.store.postgres import PostgresStore
from tests.support.audit_fakes import public_policy
from tests.support.functions import load_function
from tests.support.wiring import serving_environment

REGION = "us-east-1"
RATE_LIMIT = scans.RateLimit(scans=3, window_seconds=3600)


@dataclass(frozen=True)
class LocalAws:
    endpoint: str
    sqs: Any
    s3: Any
    queue_url: str
    bucket: str
    webhook_queue_url: str | None = None

    def messages(self) -> list[dict[str, Any]]:
        received: list[dict[str, Any]] = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=0
        ).get("Messages", [])
        return received


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    """moto in server mode on 127.0.0.1: presigned links can then really be downloaded."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def aws_client(service: str, endpoint: str) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(signature_version="s3v4"),
    )


@pytest.fixture
def local_aws(aws_endpoint: str) -> LocalAws:
    """A fresh scan FIFO queue and reports bucket for this test."""
    sqs, s3 = aws_client("sqs", aws_endpoint), aws_client("s3", aws_endpoint)
    name = f"t{uuid4().hex[:12]}"
    queue_url = sqs.create_queue(
        QueueName=f"{name}-scans.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false", "VisibilityTimeout": "1080"},
    )["QueueUrl"]
    s3.create_bucket(Bucket=f"{name}-reports")
    return LocalAws(aws_endpoint, sqs, s3, queue_url, f"{name}-reports")


@pytest.fixture
def audit_env(monkeypatch: pytest.MonkeyPatch, local_aws: LocalAws) -> Iterator[pytest.MonkeyPatch]:
    for name, value in {
        "ALLOWED_HOSTS": "localhost",
        "SUPABASE_URL": "https://project.supabase.test",
        "SUPABASE_JWT_SECRET": "u" * 40,
        "ADMIN_SESSION_SECRET": "a" * 40,
        "SERVICE_TOKEN_SECRET": "s" * 40,
        "SCAN_QUEUE_URL": local_aws.queue_url,
        "REPORTS_BUCKET": local_aws.bucket,
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    with serving_environment():
        yield monkeypatch


@pytest.fixture
def api_store(clean_database: str) -> Iterator[PostgresStore]:
    """A store for the function under test: it lives on the process loop, as in Lambda."""
    store = PostgresStore(clean_database)
    try:
        yield store
    finally:
        runtime.run(store.aclose())


@pytest.fixture
def audit_function(
    audit_env: pytest.MonkeyPatch, api_store: PostgresStore, local_aws: LocalAws
) -> Iterator[ModuleType]:
    """functions/audit_api/app.py serving with the test database, queue and bucket."""
    audit_env.setenv("SCAN_RATE_LIMIT", str(RATE_LIMIT.scans))
    audit_env.setenv("SCAN_RATE_WINDOW_SECONDS", str(RATE_LIMIT.window_seconds))
    module = load_function("audit_api")
    with serving_environment(
        store=api_store,
        scan_queue=SqsScanQueue(local_aws.queue_url, client=local_aws.sqs),
        artifacts=S3ArtifactStore(local_aws.bucket, link_seconds=300, client=local_aws.s3),
        egress_policy=public_policy(),
    ):
        yield module


@pytest.fixture
def engine(audit_env: pytest.MonkeyPatch) -> Iterator[Any]:
    """The real engine behind the real egress guard, which lets loopback through only here."""
    from scout.audit.egress_gate import GuardedEgress
    from scout.audit.engine import ScanEngine
    from scout.egress.policy import EgressPolicy

    gate = GuardedEgress(EgressPolicy(allow=["127.0.0.1"]))

    async def build() -> Any:
        return ScanEngine.with_own_browsers(deps.settings(), egress=gate)

    scan_engine = runtime.run(build())
    try:
        yield scan_engine
    finally:
        runtime.run(scan_engine.aclose())
        runtime.run(gate.aclose())


def process_message(
    store: PostgresStore, engine: Any, aws: LocalAws, body: str, *, remaining_millis: int = 119_000
) -> WorkOutcome:
    parts = Dependencies(
        deps.settings(),
        store=store,
        scanner=engine,
        artifacts=S3ArtifactStore(aws.bucket, link_seconds=300, client=aws.s3),
    )
    return handle_scan_message(body, remaining_millis=remaining_millis, parts=parts)
