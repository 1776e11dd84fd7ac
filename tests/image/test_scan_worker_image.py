"""The built scan worker image, run as Lambda runs it: its own entry point (awslambdaric) under
the Runtime API, read-only except /tmp, HOME=/tmp, as Lambda's unprivileged user, with the
template's memory limit; real SQS FIFO events for scans of a loopback page, results into the
embedded Postgres and artifacts into moto's S3. One execution environment serves the module's
tests in order: init, a cold scan, a warm scan, a scan after its Chromium was killed."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from uuid import UUID

import psycopg
import pytest
from psycopg.rows import dict_row

from functions.scan_worker.image.buildah import mounted_image
from scout.local.sqs_consumer import sqs_event
from tests.image.conftest import MEASURED, REGION, SCAN_FUNCTION, FunctionLimits
from tests.image.execution_environment import (
    LAMBDA_USER,
    ExecutionEnvironment,
    browser_processes,
    image_config,
)
from tests.image.runtime_api import Invocation, LambdaRuntimeApi, RuntimeGone
from tests.integration.audit_api.conftest import LocalAws

pytestmark = pytest.mark.slow

ARTIFACTS = {"screenshot.png", "lighthouse.html", "lighthouse.json", "axe.json"}
# What a write outside /tmp looks like to the process that tried it.
READ_ONLY_WRITE = re.compile(r"Read-only file system|EROFS", re.IGNORECASE)
# Lambda stops an init after 10 s; a loaded CI machine gets more, the measured figure is reported.
INIT_TIMEOUT_SECONDS = 120


@dataclass
class RunningWorker:
    api: LambdaRuntimeApi
    environment: ExecutionEnvironment
    log_path: Path
    init_seconds: float

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def invoke(self, event: dict[str, Any], timeout: float) -> Invocation:
        invocation = self.api.invoke(event, timeout=timeout, alive=self.environment.alive)
        assert invocation.succeeded, f"{invocation.error}\n--- function log ---\n{self.log()[-6000:]}"
        return invocation


def lambda_variables(api: LambdaRuntimeApi, limits: FunctionLimits, handler: str) -> dict[str, str]:
    """What Lambda sets in every execution environment (credentials: moto accepts any)."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": SCAN_FUNCTION,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(limits.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{SCAN_FUNCTION}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/12/07/[$LATEST]image-test",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_RUNTIME_API": api.address,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "_HANDLER": handler,
        "LAMBDA_TASK_ROOT": "/var/task",
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "HOME": "/tmp",
    }


def function_variables(limits: FunctionLimits, aws: LocalAws, database_url: str, site: str) -> dict[str, str]:
    """The template's variables for the function, with this test's stack behind them."""
    local = {
        "SCOUT_STAGE": "dev",
        "ALLOWED_HOSTS": "localhost",
        "ALLOWED_ORIGINS": "",
        "SCOUT_STORE": "postgres",
        "DATABASE_URL": database_url,
        "SUPABASE_URL": "https://project.supabase.test",
        "SUPABASE_JWT_SECRET": "u" * 40,
        "ADMIN_SESSION_SECRET": "a" * 40,
        "SERVICE_TOKEN_SECRET": "s" * 40,
        "SCOUT_EGRESS_ALLOW": urlparse(site).hostname or "",
        "ALLOW_ANONYMOUS_USERS": "false",
        "POWERTOOLS_LOG_LEVEL": os.environ.get("SCOUT_IMAGE_LOG_LEVEL", "INFO"),
        "REPORTS_BUCKET": aws.bucket,
        # The worker relays webhook events after each scan it ends.
        "WEBHOOK_QUEUE_URL": aws.webhook_queue_url or "",
    }
    variables = {name: value for name, value in limits.variables.items() if isinstance(value, str)}
    # The supabase store's keys are left unset: the postgres store is the one under test.
    supabase_keys = {"SUPABASE_SECRET_KEY", "SUPABASE_SERVICE_ROLE_KEY"}
    unresolved = set(limits.variables) - set(variables) - set(local) - supabase_keys
    assert not unresolved, f"template variables this test does not set: {sorted(unresolved)}"
    variables.update(local)
    # Boto3 reaches moto's server; no X-Ray daemon here, so the tracer would only log failures.
    variables.update({"AWS_ENDPOINT_URL": aws.endpoint, "POWERTOOLS_TRACE_DISABLED": "true"})
    return variables


@contextmanager
def running_worker(
    image: str,
    limits: FunctionLimits,
    variables: dict[str, str],
    log_path: Path,
) -> Iterator[RunningWorker]:
    """One execution environment of the image: started, initialised (or failed), always stopped."""
    config = image_config(image)
    with (
        LambdaRuntimeApi(function_name=SCAN_FUNCTION, timeout_seconds=limits.timeout_seconds) as api,
        mounted_image(image) as root,
        log_path.open("wb") as log,
    ):
        environment = ExecutionEnvironment(
            root,
            config,
            variables={**variables, **lambda_variables(api, limits, config.command[0])},
            memory_mb=limits.memory_mb,
            tmp_mb=limits.tmp_mb,
            log=log,
        )
        try:
            worker = RunningWorker(api, environment, log_path, init_seconds=0.0)
            worker.init_seconds = api.wait_for_init(
                timeout=INIT_TIMEOUT_SECONDS, alive=environment.alive, since=environment.started_at
            )
            yield worker
        finally:
            environment.stop()


@pytest.fixture(scope="module")
def worker(
    image: str,
    scan_function_limits: FunctionLimits,
    local_aws: LocalAws,
    database_over_tcp: str,
    site: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningWorker]:
    variables = function_variables(scan_function_limits, local_aws, database_over_tcp, site)
    log_path = tmp_path_factory.mktemp("image") / "function.log"
    try:
        with running_worker(image, scan_function_limits, variables, log_path) as running:
            MEASURED["init duration (s)"] = running.init_seconds
            yield running
            MEASURED["peak memory of the environment (MB)"] = running.environment.cgroup.peak_mb
    except Exception as error:
        log = log_path.read_text(errors="replace") if log_path.exists() else "(none)"
        raise AssertionError(f"{error}\n--- function log ---\n{log[-6000:]}") from error


def queue_scan(database_url: str, aws: LocalAws, url: str) -> str:
    """A scan as POST /scans leaves it: a queued row and its FIFO message (the API itself
    refuses loopback targets, as it should, so the row is created with the SQL it calls)."""
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as connection:
        row = connection.execute(
            "select public.create_scan(p_owner => %s, p_url => %s, p_target_host => %s, p_device => %s,"
            " p_idempotency_key => null, p_rate_limit => null, p_rate_window_seconds => 3600) as outcome",
            ("user:image-test", url, urlparse(url).hostname, "desktop"),
        ).fetchone()
    assert row is not None
    scan_id: str = row["outcome"]["scan"]["id"]
    from scout.audit.scan_queue import message_body, message_group

    aws.sqs.send_message(
        QueueUrl=aws.queue_url,
        MessageBody=message_body(UUID(scan_id)),
        MessageGroupId=message_group(urlparse(url).hostname or ""),
        MessageDeduplicationId=scan_id,
    )
    return scan_id


def receive_event(aws: LocalAws) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One message from the FIFO queue as Lambda's SQS poller delivers it (batch size 1)."""
    messages = aws.sqs.receive_message(
        QueueUrl=aws.queue_url,
        MaxNumberOfMessages=1,
        WaitTimeSeconds=5,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", [])
    assert len(messages) == 1, "the scan's message is not on the queue"
    attributes = aws.sqs.get_queue_attributes(QueueUrl=aws.queue_url, AttributeNames=["QueueArn"])
    return sqs_event(messages, attributes["Attributes"]["QueueArn"], REGION), messages


def stored_scan(database_url: str, scan_id: str) -> dict[str, Any]:
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as connection:
        row = connection.execute(
            "select status, error, final_url, lighthouse, axe, timings, artifacts, attempts"
            " from public.scans where id = %s",
            (scan_id,),
        ).fetchone()
    assert row is not None, f"scan {scan_id} is not in the store"
    return row


def scan_through_the_queue(
    worker: RunningWorker, aws: LocalAws, database_url: str, site: str
) -> tuple[str, Invocation]:
    scan_id = queue_scan(database_url, aws, site)
    event, messages = receive_event(aws)
    invocation = worker.invoke(event, timeout=worker.api.timeout_seconds + 30)
    # No failed items: the poller deletes the batch, as Lambda's event source mapping does.
    assert invocation.result() == {"batchItemFailures": []}
    aws.sqs.delete_message(QueueUrl=aws.queue_url, ReceiptHandle=messages[0]["ReceiptHandle"])
    return scan_id, invocation


def assert_scan_succeeded_with_its_reports(database_url: str, aws: LocalAws, scan_id: str, site: str) -> None:
    scan = stored_scan(database_url, scan_id)
    assert scan["status"] == "succeeded", scan["error"]
    assert scan["final_url"] == site
    assert set(scan["lighthouse"]["scores"]) == {"performance", "accessibility", "best-practices", "seo"}
    assert "image-alt" in {violation["id"] for violation in scan["axe"]["violations"]}
    stored = {artifact["name"]: artifact for artifact in scan["artifacts"]}
    assert set(stored) == ARTIFACTS
    for name, artifact in stored.items():
        body = aws.s3.get_object(Bucket=aws.bucket, Key=artifact["key"])["Body"].read()
        assert len(body) == artifact["size_bytes"] > 0, name
    screenshot = aws.s3.get_object(Bucket=aws.bucket, Key=stored["screenshot.png"]["key"])["Body"].read()
    assert screenshot.startswith(b"\x89PNG\r\n\x1a\n")


# ---- the tests, in the order one execution environment lives through them --------------------


def test_the_handler_initialises_as_lambdas_unprivileged_user(worker: RunningWorker) -> None:
    # Given the image started with its own entry point, when its init phase has ended
    # Then the runtime asked for an event (the handler imported) as user 993, not root
    assert worker.init_seconds > 0
    users = set()
    for process in worker.environment.processes():
        status = (Path("/proc") / str(process.pid) / "status").read_text()
        users.add(int(re.search(r"^Uid:\s+(\d+)", status, re.MULTILINE).group(1)))  # type: ignore[union-attr]
    assert users == {LAMBDA_USER}


def test_a_cold_scan_from_the_fifo_queue_stores_its_result_and_uploads_its_reports(
    worker: RunningWorker, local_aws: LocalAws, database_over_tcp: str, site: str
) -> None:
    # Given a queued scan of the product page, when its SQS FIFO event reaches the fresh environment
    scan_id, invocation = scan_through_the_queue(worker, local_aws, database_over_tcp, site)
    MEASURED["cold scan (s)"] = invocation.duration_seconds
    # Then the scan succeeded in the store and its four reports are in the bucket
    assert_scan_succeeded_with_its_reports(database_over_tcp, local_aws, scan_id, site)


def test_a_second_scan_is_answered_warm_by_the_same_browser(
    worker: RunningWorker, local_aws: LocalAws, database_over_tcp: str, site: str
) -> None:
    # Given the environment that served the cold scan, with its pooled Chromium
    browsers_before = browser_processes(worker.environment.processes())
    assert browsers_before, "no Chromium is running after the first scan"
    # When a second scan arrives
    scan_id, invocation = scan_through_the_queue(worker, local_aws, database_over_tcp, site)
    MEASURED["warm scan (s)"] = invocation.duration_seconds
    # Then it succeeded on the browser the first scan launched
    assert_scan_succeeded_with_its_reports(database_over_tcp, local_aws, scan_id, site)
    assert set(browsers_before) <= set(browser_processes(worker.environment.processes()))


def test_a_scan_after_chromium_was_killed_relaunches_it_and_succeeds(
    worker: RunningWorker, local_aws: LocalAws, database_over_tcp: str, site: str
) -> None:
    # Given every Chromium of the environment killed (the out-of-memory killer's way)
    killed = browser_processes(worker.environment.processes())
    worker.environment.kill(killed)
    deadline = time.monotonic() + 10
    while (
        set(killed) & set(browser_processes(worker.environment.processes())) and time.monotonic() < deadline
    ):
        time.sleep(0.1)
    # When the next scan arrives
    scan_id, invocation = scan_through_the_queue(worker, local_aws, database_over_tcp, site)
    MEASURED["scan after Chromium was killed (s)"] = invocation.duration_seconds
    # Then it succeeded on a new browser
    assert_scan_succeeded_with_its_reports(database_over_tcp, local_aws, scan_id, site)
    relaunched = browser_processes(worker.environment.processes())
    assert relaunched
    assert not set(relaunched) & set(killed)


def test_nothing_in_the_environment_tried_to_write_outside_tmp(worker: RunningWorker) -> None:
    # Given the environment after its scans (its root file system is mounted read-only)
    assert worker.environment.alive()
    logs = {"function output": worker.log(), **worker.environment.tmp_logs()}
    assert any("chrome" in name for name in logs), f"Chrome's own log is not in /tmp: {sorted(logs)}"
    # Then no process met a read-only file system, in its output or Chrome's: every write went to /tmp
    offending = [
        f"{name}: {line}"
        for name, text in logs.items()
        for line in text.splitlines()
        if READ_ONLY_WRITE.search(line)
    ]
    assert not offending, "\n".join(offending[:20])


def test_a_worker_missing_a_required_setting_fails_its_init_and_never_serves(
    image: str,
    scan_function_limits: FunctionLimits,
    local_aws: LocalAws,
    database_over_tcp: str,
    site: str,
    tmp_path: Path,
) -> None:
    # Given the image without REPORTS_BUCKET (the handler module raises at import)
    variables = function_variables(scan_function_limits, local_aws, database_over_tcp, site)
    del variables["REPORTS_BUCKET"]
    # When it starts, then its init fails with the handler's import error, reported to Lambda
    with (
        pytest.raises(RuntimeGone, match="REPORTS_BUCKET"),
        running_worker(image, scan_function_limits, variables, tmp_path / "function.log"),
    ):
        pass
