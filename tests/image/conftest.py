"""The scan worker image under Lambda's conditions: fixtures for `make image-test`.

``SCOUT_IMAGE`` names the built image (`make image`); without it the image tests are skipped
(`make test` runs only the Runtime API's own tests here). With it, a missing image fails.
Around the image: the Runtime API emulator, moto's server (SQS, S3) and the session's
embedded Postgres on loopback, and the product page the scans audit.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from functions.scan_worker.image.buildah import image_exists
from scout.local.aws_endpoint import create_resources
from scout.local.cfn_yaml import load_cfn_yaml
from scout.local.environment import local_names
from scout.local.template import load_template
from tests.image.tcp_relay import TcpToUnixRelay
from tests.integration.audit_api.conftest import LocalAws, aws_client, aws_endpoint
from tests.support.audit_pages import product_site
from tests.support.functions import ROOT

REGION = "us-east-1"
__all__ = ["aws_endpoint"]  # moto's server on loopback, shared with the audit tests
SCAN_FUNCTION = "ScanWorkerFunction"
TEMPLATE = ROOT / "template.yaml"
# Measurements of this run, printed at the end (pytest_terminal_summary below).
MEASURED: dict[str, float] = {}


@dataclass(frozen=True)
class FunctionLimits:
    memory_mb: int
    timeout_seconds: int
    tmp_mb: int
    variables: dict[str, Any]  # the template's own, Globals merged


@pytest.fixture(scope="session")
def image() -> str:
    name = os.environ.get("SCOUT_IMAGE")
    if not name:
        pytest.skip("the image tests run with `make image-test` (SCOUT_IMAGE names the image)")
    if not image_exists(name):
        pytest.fail(f"{name} is not built: run `make image` first")
    return name


@pytest.fixture(scope="session")
def scan_function_limits() -> FunctionLimits:
    """MemorySize, Timeout and EphemeralStorage of the scan worker, as template.yaml sets them."""
    function = load_template(TEMPLATE).functions[SCAN_FUNCTION]
    properties = load_cfn_yaml(TEMPLATE.read_text())["Resources"][SCAN_FUNCTION]["Properties"]
    return FunctionLimits(
        memory_mb=function.memory_mb,
        timeout_seconds=function.timeout_seconds,
        tmp_mb=int(properties.get("EphemeralStorage", {}).get("Size", 512)),
        variables=function.environment,
    )


@pytest.fixture(scope="session")
def local_aws(aws_endpoint: str) -> LocalAws:
    """The template's queues and buckets (ScanQueue FIFO, WebhookQueue, ReportsBucket) on moto's server."""
    template = load_template(TEMPLATE)
    names = local_names(template, endpoint_url=aws_endpoint, region=REGION)
    create_resources(template, names)
    queue_url = names.queue_url("ScanQueue")
    assert isinstance(queue_url, str)
    webhook_queue_url = names.queue_url("WebhookQueue")
    assert isinstance(webhook_queue_url, str)
    sqs, s3 = aws_client("sqs", aws_endpoint), aws_client("s3", aws_endpoint)
    return LocalAws(aws_endpoint, sqs, s3, queue_url, names.bucket_names["ReportsBucket"], webhook_queue_url)


@pytest.fixture(scope="session")
def database_over_tcp(database_url: str) -> Iterator[str]:
    """The session's database as a function reaches it: a DSN on 127.0.0.1."""
    parsed = urlparse(database_url)
    socket_dir = parse_qs(parsed.query).get("host", [""])[0]
    if parsed.hostname or not socket_dir:
        yield database_url  # already TCP (TEST_DATABASE_URL)
        return
    port = parsed.port or 5432
    with TcpToUnixRelay(Path(socket_dir) / f".s.PGSQL.{port}") as relay:
        user, database = parsed.username or "postgres", parsed.path or "/postgres"
        yield f"postgresql://{user}@127.0.0.1:{relay.port}{database}"


@pytest.fixture(scope="session")
def site() -> Iterator[str]:
    with product_site() as url:
        yield url


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if MEASURED:
        terminalreporter.section("scan worker image, measured")
        for name, value in MEASURED.items():
            terminalreporter.write_line(f"{name}: {value:.2f}")
