"""The jobs function's cold start and meta routes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from scout.api_docs import committed_document
from tests.support.functions import ROOT, load_function
from tests.support.http_events import http_event, json_body


class FakeLambdaContext:
    function_name = "JobsApiFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:JobsApiFunction"
    aws_request_id = "req-1"


def test_import_without_allowed_hosts_fails_with_runtime_error() -> None:
    # Given an environment without ALLOWED_HOSTS
    env = {key: value for key, value in os.environ.items() if key != "ALLOWED_HOSTS"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "scout"), str(ROOT)])
    # When the function module is imported in a fresh interpreter
    code = "from tests.support.functions import load_function; load_function('jobs_api')"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    # Then the cold start fails with RuntimeError naming the setting
    assert result.returncode != 0
    assert "RuntimeError" in result.stderr
    assert "ALLOWED_HOSTS" in result.stderr


def test_health_answers_200_through_the_handler(scout_env: pytest.MonkeyPatch) -> None:
    # Given the function imported with ALLOWED_HOSTS set
    scout_env.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    module = load_function("jobs_api")
    # When /health is invoked
    response = module.handler(http_event("GET", "/health"), FakeLambdaContext())
    # Then it answers 200
    assert response["statusCode"] == 200
    assert json_body(response)["status"] == "ok"


def test_openapi_json_serves_the_merged_document(scout_env: pytest.MonkeyPatch) -> None:
    scout_env.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    module = load_function("jobs_api")
    response = module.handler(http_event("GET", "/openapi.json"), FakeLambdaContext())
    assert response["statusCode"] == 200
    assert json_body(response) == committed_document()


def test_sample_event_for_health_is_served(scout_env: pytest.MonkeyPatch) -> None:
    scout_env.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    module = load_function("jobs_api")
    event = json.loads((ROOT / "events" / "jobs_api_health.json").read_text())
    assert module.handler(event, FakeLambdaContext())["statusCode"] == 200
