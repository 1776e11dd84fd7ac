"""Calling the audit function in-process as API Gateway would, and putting scans in the
state a worker leaves them in, for the audit API's integration tests."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from scout import deps, runtime
from scout.auth import Strategy, mint, policies
from scout.store.postgres import PostgresStore
from tests.support.http_events import http_event, json_body


class FakeLambdaContext:
    function_name = "AuditApiFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:AuditApiFunction"
    aws_request_id = "req-1"


def token(strategy: Strategy = Strategy.USER, subject: str = "user-1") -> str:
    return mint(policies(deps.settings())[strategy], subject)


def call(function: ModuleType, event: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = function.handler(event, FakeLambdaContext())
    return response


def post(
    function: ModuleType, body: dict[str, Any], *, subject: str = "user-1", key: str | None = None
) -> dict[str, Any]:
    headers = {"Idempotency-Key": key} if key else None
    return call(
        function, http_event("POST", "/scans", body=body, headers=headers, token=token(subject=subject))
    )


def get(
    function: ModuleType, path: str, *, as_token: str, query: dict[str, str] | None = None
) -> dict[str, Any]:
    return call(function, http_event("GET", path, token=as_token, query=query))


def get_json(function: ModuleType, path: str, *, as_token: str, query: dict[str, str] | None = None) -> Any:
    response = get(function, path, as_token=as_token, query=query)
    assert response["statusCode"] == 200, response
    return json_body(response)


def finish(store: PostgresStore, scan_id: str, result: dict[str, Any]) -> None:
    """What a worker does with a result: claim the scan, then finish it with ``result``."""

    async def work() -> None:
        claim = await store.call("claim_scan", p_scan_id=scan_id, p_lease_seconds=150, p_max_attempts=4)
        await store.call(
            "finish_scan",
            p_scan_id=scan_id,
            p_attempt=claim["scan"]["attempts"],
            p_result=result,
            p_artifacts=[],
        )

    runtime.run(work())
