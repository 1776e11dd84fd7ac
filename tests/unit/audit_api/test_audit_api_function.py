"""The audit function over HTTP events: cold start, who may call it, and how outcomes answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from types import ModuleType
from uuid import UUID

import pytest

from scout.auth import Strategy, mint, policies
from scout.errors import NotFound
from scout.settings import load_settings
from tests.support.audit_fakes import MemoryArtifacts, RecordingQueue, ScriptedStore, public_policy, scan_row
from tests.support.functions import ROOT, load_function
from tests.support.http_events import http_event, json_body
from tests.support.wiring import serving_environment

SCAN_ID = scan_row()["id"]


class FakeLambdaContext:
    function_name = "AuditApiFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:AuditApiFunction"
    aws_request_id = "req-1"


@pytest.fixture
def audit_env(scout_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    scout_env.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    scout_env.setenv("SCAN_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/scans.fifo")
    scout_env.setenv("REPORTS_BUCKET", "scout-reports-test")
    return scout_env


@pytest.fixture
def function(audit_env: pytest.MonkeyPatch) -> ModuleType:
    # A cold start: the routes are served by a resolver built from this test's settings.
    return load_function("audit_api")


@pytest.fixture
def store(function: ModuleType, audit_env: pytest.MonkeyPatch) -> Iterator[ScriptedStore]:
    scripted = ScriptedStore()
    audit_env.setenv("SCAN_RATE_LIMIT", "5")
    audit_env.setenv("SCAN_RATE_WINDOW_SECONDS", "3600")
    with serving_environment(
        store=scripted,
        scan_queue=RecordingQueue(),
        artifacts=MemoryArtifacts(),
        egress_policy=public_policy(),
    ):
        yield scripted


def token(strategy: Strategy, subject: str = "user-1") -> str:
    return mint(policies(load_settings())[strategy], subject)


def call(function: ModuleType, method: str, path: str, **kwargs: object) -> dict[str, object]:
    response: dict[str, object] = function.handler(http_event(method, path, **kwargs), FakeLambdaContext())
    return response


def fresh_interpreter(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**env, "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "scout"), str(ROOT)])}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_importing_the_audit_function_does_not_import_playwright(audit_env: pytest.MonkeyPatch) -> None:
    # Given a configured environment, in a fresh interpreter (a cold start)
    code = (
        "import sys; from tests.support.functions import load_function; load_function('audit_api'); "
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('playwright', 'scout')); print(loaded)"
    )
    # When the function module is imported
    result = fresh_interpreter(code, dict(os.environ))
    # Then neither Playwright nor the scan engine was loaded
    assert result.returncode == 0, result.stderr
    assert "'scout.audit.api'" in result.stdout
    assert "playwright" not in result.stdout
    assert "scout.audit.engine" not in result.stdout


@pytest.mark.parametrize("missing", ["SCAN_QUEUE_URL", "REPORTS_BUCKET"])
def test_cold_start_fails_without_the_queue_or_the_bucket(
    audit_env: pytest.MonkeyPatch, missing: str
) -> None:
    env = {key: value for key, value in os.environ.items() if key != missing}
    result = fresh_interpreter(
        "from tests.support.functions import load_function; load_function('audit_api')", env
    )
    assert result.returncode != 0
    assert "RuntimeError" in result.stderr
    assert missing in result.stderr


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/scans"), ("GET", "/scans"), ("GET", f"/scans/{SCAN_ID}")]
)
def test_every_scan_route_refuses_a_request_without_a_token(
    function: ModuleType, store: ScriptedStore, method: str, path: str
) -> None:
    body = {"url": "https://example.com/"} if method == "POST" else None
    response = call(function, method, path, body=body)
    assert response["statusCode"] == 401
    assert store.calls == []


def test_an_admin_token_does_not_open_the_scan_routes(function: ModuleType, store: ScriptedStore) -> None:
    response = call(function, "GET", "/scans", token=token(Strategy.ADMIN, "root"))
    # A valid token of the wrong kind: 403 naming what the route takes
    assert response["statusCode"] == 403
    assert "user or service tokens, not admin" in json.loads(response["body"])["error"]["message"]
    assert store.calls == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"url": "https://example.com/", "device": "watch"},
        {"url": "https://example.com/", "extra": 1},
        {"url": 42},
    ],
)
def test_a_malformed_body_is_a_400_that_names_the_field(
    function: ModuleType, store: ScriptedStore, body: dict[str, object]
) -> None:
    response = call(function, "POST", "/scans", body=body, token=token(Strategy.USER))
    assert response["statusCode"] == 400
    assert json_body(response)["error"]["code"] == "invalid_request"
    assert store.calls == []


def test_a_private_target_is_refused_with_blocked_target(function: ModuleType, store: ScriptedStore) -> None:
    response = call(
        function, "POST", "/scans", body={"url": "http://192.168.1.1/"}, token=token(Strategy.USER)
    )
    assert response["statusCode"] == 400
    assert json_body(response)["error"]["code"] == "blocked_target"
    assert store.calls == []


def test_a_queued_scan_answers_202_with_the_scan_and_its_location(
    function: ModuleType, store: ScriptedStore
) -> None:
    # Given the store creates the scan
    store.answers["create_scan"] = {"outcome": "created", "scan": scan_row()}
    # When a user posts a scan
    response = call(
        function, "POST", "/scans", body={"url": "https://example.com/"}, token=token(Strategy.USER)
    )
    # Then 202 with the scan's fields and where to poll
    assert response["statusCode"] == 202
    assert json_body(response) == {
        "id": SCAN_ID,
        "url": "https://example.com/",
        "device": "mobile",
        "status": "queued",
        "created_at": "2026-11-25T18:00:00.123456Z",
    }
    headers = response["headers"]
    assert isinstance(headers, dict)
    assert headers["Location"] == f"/scans/{SCAN_ID}"
    assert "Idempotent-Replayed" not in headers


def test_a_replayed_request_is_marked_as_such(function: ModuleType, store: ScriptedStore) -> None:
    store.answers["create_scan"] = {"outcome": "replayed", "scan": scan_row(status="running")}
    response = call(
        function,
        "POST",
        "/scans",
        body={"url": "https://example.com/"},
        headers={"Idempotency-Key": "key-1"},
        token=token(Strategy.USER),
    )
    assert response["statusCode"] == 202
    assert store.called("create_scan")[0]["p_idempotency_key"] == "key-1"
    headers = response["headers"]
    assert isinstance(headers, dict)
    assert headers["Idempotent-Replayed"] == "true"


def test_over_the_rate_limit_answers_429_with_retry_after(function: ModuleType, store: ScriptedStore) -> None:
    store.answers["create_scan"] = {"outcome": "rate_limited", "retry_after_seconds": 1234}
    response = call(
        function, "POST", "/scans", body={"url": "https://example.com/"}, token=token(Strategy.USER)
    )
    assert response["statusCode"] == 429
    headers = response["headers"]
    assert isinstance(headers, dict)
    assert headers["Retry-After"] == "1234"
    assert json_body(response)["error"]["code"] == "rate_limited"


def test_someone_elses_scan_is_a_404(function: ModuleType, store: ScriptedStore) -> None:
    store.answers["get_scan"] = NotFound(f"No scan {SCAN_ID} here.")
    response = call(function, "GET", f"/scans/{SCAN_ID}", token=token(Strategy.USER, "user-2"))
    assert response["statusCode"] == 404
    assert store.called("get_scan") == [{"p_scan_id": UUID(SCAN_ID), "p_owner": "user:user-2"}]


def test_a_service_token_reads_a_scan_with_its_result_and_artifact_links(
    function: ModuleType, store: ScriptedStore
) -> None:
    stored = [
        {
            "name": "screenshot.png",
            "key": f"scans/{SCAN_ID}/screenshot.png",
            "content_type": "image/png",
            "size_bytes": 3,
        }
    ]
    store.answers["get_scan"] = scan_row(
        status="failed",
        finished_at="2026-11-25T18:01:00+00:00",
        error={"code": "dns_failed", "message": "The website's name could not be found."},
        timings={"total_ms": 40},
        artifacts=stored,
    )
    response = call(function, "GET", f"/scans/{SCAN_ID}", token=token(Strategy.SERVICE, "billing"))
    assert response["statusCode"] == 200
    body = json_body(response)
    assert body["status"] == "failed"
    assert body["error"] == {"code": "dns_failed", "message": "The website's name could not be found."}
    assert body["lighthouse"] is None
    assert [artifact["name"] for artifact in body["artifacts"]] == ["screenshot.png"]
    assert "owner" not in body


def test_list_passes_the_page_size_and_answers_items_and_next_cursor(
    function: ModuleType, store: ScriptedStore
) -> None:
    store.answers["list_scans"] = {"items": [scan_row()], "next": None}
    response = call(function, "GET", "/scans", query={"limit": "7"}, token=token(Strategy.USER))
    assert response["statusCode"] == 200
    body = json_body(response)
    assert body["next_cursor"] is None
    assert [item["id"] for item in body["items"]] == [SCAN_ID]
    assert store.called("list_scans")[0]["p_limit"] == 7


@pytest.mark.parametrize("limit", ["0", "101", "many"])
def test_a_page_size_out_of_range_is_a_400(function: ModuleType, store: ScriptedStore, limit: str) -> None:
    response = call(function, "GET", "/scans", query={"limit": limit}, token=token(Strategy.USER))
    assert response["statusCode"] == 400
    assert store.calls == []


def test_a_browser_client_may_read_the_headers_that_steer_it(
    function: ModuleType, store: ScriptedStore
) -> None:
    # Given a request from an allowed origin that is rate limited
    store.answers["create_scan"] = {"outcome": "rate_limited", "retry_after_seconds": 60}
    response = call(
        function,
        "POST",
        "/scans",
        body={"url": "https://example.com/"},
        headers={"Origin": "https://app.scout.test"},
        token=token(Strategy.USER),
    )
    # Then Retry-After (and Location, on success) are exposed to the page's script
    headers = response["headers"]
    assert isinstance(headers, dict)
    exposed = {name.strip() for name in headers["Access-Control-Expose-Headers"].split(",")}
    assert {"Retry-After", "Location", "Idempotent-Replayed"} <= exposed
