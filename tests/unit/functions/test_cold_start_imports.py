"""What an API function's cold start imports: only what every request needs.

The time budget itself is measured in bench/cold_start.py (`make bench`); this checks, without
timing anything, that the libraries a request loads when it needs them stay out of the
handler module's import.
"""

from __future__ import annotations

import os

import pytest

from tests.support.functions import ROOT, json_from_fresh_interpreter

# Loaded by the first request that needs them (tracing, a token, an outbound call, the
# OpenAPI models of the resolver), never at import.
DEFERRED = (
    "aws_xray_sdk",
    "boto3",
    "httpx",
    "httpcore",
    "anyio",
    "jwt",
    "cryptography",
    "supabase",
    "postgrest",
    "psycopg",
    "playwright",
    "aws_lambda_powertools.event_handler.openapi.models",
)

REPORT_LOADED = "import json, sys\nimport app\nprint(json.dumps(sorted(sys.modules)))"


@pytest.mark.parametrize("function", ["jobs_api", "audit_api"])
def test_importing_an_api_function_loads_none_of_the_deferred_libraries(function: str) -> None:
    # Given a fresh interpreter with a deployed function's settings, tracing on as under Lambda
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "layers" / "scout"),
        "LAMBDA_TASK_ROOT": str(ROOT / "functions" / function),
        "AWS_LAMBDA_FUNCTION_NAME": f"scout-test-{function}",
        "AWS_DEFAULT_REGION": "us-east-1",
        "ALLOWED_HOSTS": "api.scout.test",
        "SCOUT_STORE": "supabase",
        "SUPABASE_URL": "https://project.supabase.test",
        "SUPABASE_SERVICE_ROLE_KEY": "sb_secret_" + "k" * 40,
        "SUPABASE_JWT_SECRET": "u" * 40,
        "SCAN_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/scans.fifo",
        "REPORTS_BUCKET": "reports",
    }
    env.pop("POWERTOOLS_TRACE_DISABLED", None)
    # When the handler module is imported
    loaded = json_from_fresh_interpreter(function, REPORT_LOADED, env)
    # Then none of the deferred libraries was loaded
    assert sorted(name for name in loaded if name.startswith(DEFERRED)) == []
