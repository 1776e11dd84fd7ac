"""The scan worker with the real engine: Chromium, Lighthouse and axe on a loopback page,
results into Postgres, artifacts into S3 on moto's server, read back through the API."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import httpx
import pytest

from scout import deps, runtime
from scout.audit.scan_processing import RETRIED_ERROR_CODES
from scout.auth import Strategy, mint, policies
from scout.store.postgres import PostgresStore
from tests.integration.audit_api.conftest import LocalAws, process_message
from tests.support.audit_pages import product_site
from tests.support.http_events import http_event, json_body

pytestmark = pytest.mark.slow


class FakeLambdaContext:
    function_name = "AuditApiFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:AuditApiFunction"
    aws_request_id = "req-1"


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with product_site() as url:
        yield url


def user_token() -> str:
    return mint(policies(deps.settings())[Strategy.USER], "user-1")


def queue_scan(store: PostgresStore, url: str) -> str:
    """A scan as POST /scans leaves it (the API refuses loopback targets, as it should)."""
    outcome = runtime.run(
        store.call(
            "create_scan",
            p_owner="user:user-1",
            p_url=url,
            p_target_host="127.0.0.1",
            p_device="desktop",
            p_idempotency_key=None,
            p_rate_limit=None,
            p_rate_window_seconds=3600,
        )
    )
    scan_id: str = outcome["scan"]["id"]
    return scan_id


def read_scan(function: ModuleType, scan_id: str) -> dict[str, Any]:
    response = function.handler(
        http_event("GET", f"/scans/{scan_id}", token=user_token()), FakeLambdaContext()
    )
    assert response["statusCode"] == 200, response
    body: dict[str, Any] = json_body(response)
    return body


def test_a_queued_scan_of_a_page_ends_succeeded_with_downloadable_reports(
    audit_function: ModuleType, api_store: PostgresStore, local_aws: LocalAws, engine: Any, site: str
) -> None:
    # Given a queued scan of the product page
    scan_id = queue_scan(api_store, site)
    # When the worker takes its message
    done = process_message(api_store, engine, local_aws, json.dumps({"scan_id": scan_id}))
    # Then the scan succeeded with Lighthouse scores and axe's findings
    assert (done.outcome, done.status) == ("finished", "succeeded")
    scan = read_scan(audit_function, scan_id)
    assert scan["status"] == "succeeded", scan["error"]
    assert scan["final_url"] == site
    assert set(scan["lighthouse"]["scores"]) == {"performance", "accessibility", "best-practices", "seo"}
    assert "image-alt" in {violation["id"] for violation in scan["axe"]["violations"]}
    assert scan["timings"]["total_ms"] > 0
    # And each artifact link downloads what its name says
    links = {artifact["name"]: artifact["url"] for artifact in scan["artifacts"]}
    assert set(links) == {"screenshot.png", "lighthouse.html", "lighthouse.json", "axe.json"}
    assert httpx.get(links["screenshot.png"], timeout=10).content.startswith(b"\x89PNG\r\n\x1a\n")
    assert "<html" in httpx.get(links["lighthouse.html"], timeout=10).text[:2000].lower()
    assert "categories" in httpx.get(links["lighthouse.json"], timeout=10).json()
    assert "violations" in httpx.get(links["axe.json"], timeout=10).json()


def test_a_site_that_refuses_connections_is_a_finished_failure_not_a_retry(
    audit_function: ModuleType, api_store: PostgresStore, local_aws: LocalAws, engine: Any
) -> None:
    # Given a queued scan of a loopback port nobody listens on
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    scan_id = queue_scan(api_store, f"http://127.0.0.1:{closed_port}/")
    # When the worker takes its message, it does not raise (no retry)
    done = process_message(api_store, engine, local_aws, json.dumps({"scan_id": scan_id}))
    # Then the scan is failed for the site's reason, readable by its owner
    assert (done.outcome, done.status) == ("finished", "failed")
    scan = read_scan(audit_function, scan_id)
    assert scan["status"] == "failed"
    # (Behind the egress proxy a refused connection reaches the browser as the proxy's 502.)
    assert scan["error"]["code"] in ("connection_failed", "http_error")
    assert scan["error"]["code"] not in RETRIED_ERROR_CODES
