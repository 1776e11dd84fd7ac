"""Swagger UI at GET /docs, on both API functions, over the document /openapi.json serves."""

from __future__ import annotations

import base64
import gzip
import json
import re
from types import ModuleType
from typing import Any

import pytest

from scout.api_docs import committed_document
from tests.support.functions import ROOT, load_function
from tests.support.http_events import http_event

# Any asset a page would fetch: a script or stylesheet by URL.
FETCHED_ASSET = re.compile(r"<script[^>]+src=|<link[^>]+stylesheet", re.IGNORECASE)


class FakeLambdaContext:
    function_name = "ApiFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:ApiFunction"
    aws_request_id = "req-1"


def page_of(response: dict[str, Any]) -> str:
    body = (
        base64.b64decode(response["body"]) if response.get("isBase64Encoded") else response["body"].encode()
    )
    if response["headers"].get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return body.decode("utf-8")


def embedded_spec(page: str) -> dict[str, Any]:
    start = page.index("spec: ") + len("spec: ")
    spec, _ = json.JSONDecoder().raw_decode(page[start:].replace("<\\/", "</"))
    assert isinstance(spec, dict)
    return spec


@pytest.fixture
def jobs_function(scout_env: pytest.MonkeyPatch) -> ModuleType:
    scout_env.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    return load_function("jobs_api")


@pytest.fixture
def audit_function(scout_env: pytest.MonkeyPatch) -> ModuleType:
    scout_env.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    scout_env.setenv("SCAN_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/scans.fifo")
    scout_env.setenv("REPORTS_BUCKET", "scout-reports-test")
    return load_function("audit_api")


@pytest.mark.parametrize("function_name", ["jobs_function", "audit_function"])
def test_docs_serves_swagger_ui_over_the_served_document(
    function_name: str, request: pytest.FixtureRequest
) -> None:
    # Given either API function
    function: ModuleType = request.getfixturevalue(function_name)
    # When a browser asks for /docs
    response = function.handler(
        http_event("GET", "/docs", headers={"accept": "text/html"}), FakeLambdaContext()
    )
    # Then it answers Swagger UI over the document /openapi.json serves
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "text/html"
    page = page_of(response)
    assert "SwaggerUIBundle(swaggerUIOptions)" in page
    assert embedded_spec(page) == committed_document()


def test_docs_page_fetches_nothing_from_elsewhere(jobs_function: ModuleType) -> None:
    # Given the /docs page
    page = page_of(jobs_function.handler(http_event("GET", "/docs"), FakeLambdaContext()))
    # Then Swagger UI's script and stylesheet are inlined: no script or stylesheet by URL
    assert FETCHED_ASSET.search(page) is None
    assert "<style>" in page


def test_docs_page_is_compressed_for_clients_that_accept_gzip(jobs_function: ModuleType) -> None:
    # Given the sample event of a browser that accepts gzip
    event = json.loads((ROOT / "events" / "jobs_api_docs.json").read_text())
    # When it is served
    response = jobs_function.handler(event, FakeLambdaContext())
    # Then the page travels gzipped (it is about 1.7 MB plain), and unpacks to Swagger UI
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Encoding"] == "gzip"
    assert len(response["body"]) < 1_000_000
    assert embedded_spec(page_of(response)) == committed_document()
