"""The audit function's HTTP API: POST /scans, GET /scans, GET /scans/{scan_id},
GET /scans/{scan_id}/diff and GET /history.

Each route authenticates (user or service token), calls one function of
:mod:`scout.audit.scans` or :mod:`scout.audit.history` on the process's event loop, and
shapes the response. This module
stays light for the API's cold start: no Playwright, no scan engine.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.metrics import MetricUnit

from scout import runtime
from scout.audit import history, scans
from scout.audit.artifacts import ArtifactStore, S3ArtifactStore
from scout.audit.diffs import DEFAULT_REGRESSION_THRESHOLD, ScanDiff
from scout.audit.result import Device
from scout.audit.scan_queue import ScanQueue, SqsScanQueue
from scout.audit.worker import runs_that_fit
from scout.auth import Strategy
from scout.egress import EgressPolicy
from scout.http_api import BEARER, ScoutHttpApi
from scout.observability import metrics
from scout.settings import Settings, get_settings

if TYPE_CHECKING:
    from scout.store import Store

app = ScoutHttpApi(get_settings(), title="scout audit API")
scan_readers = app.requires(Strategy.USER, Strategy.SERVICE)


@dataclass(frozen=True)
class AuditServices:
    """What the routes hand to the scan service."""

    store: Store
    queue: ScanQueue
    artifacts: ArtifactStore
    policy: EgressPolicy
    rate_limit: scans.RateLimit
    # Lighthouse runs one attempt of the scan worker can hold (POST /scans refuses more).
    max_runs: int = scans.MAX_RUNS


def check_configuration(settings: Settings) -> None:
    """Fail the cold start (RuntimeError) when the queue or the bucket is not configured."""
    missing = [
        name
        for name, value in (
            ("SCAN_QUEUE_URL", settings.scan_queue_url),
            ("REPORTS_BUCKET", settings.reports_bucket),
        )
        if not value
    ]
    if missing:
        raise RuntimeError(f"the audit API needs {' and '.join(missing)}")


@cache
def _aws_services(settings: Settings) -> tuple[ScanQueue, ArtifactStore, EgressPolicy]:
    return (
        SqsScanQueue.from_settings(settings),
        S3ArtifactStore.from_settings(settings),
        EgressPolicy.from_settings(settings),
    )


_override: AuditServices | None = None


def services() -> AuditServices:
    """The process's services: built on first use; the store is checked before every reuse."""
    if _override is not None:
        return _override
    from scout.store import get_store

    settings = get_settings()
    queue, artifacts, policy = _aws_services(settings)
    return AuditServices(
        store=get_store(settings),
        queue=queue,
        artifacts=artifacts,
        policy=policy,
        rate_limit=scans.RateLimit(settings.scan_rate_limit, settings.scan_rate_window_seconds),
        max_runs=runs_that_fit(
            worker_timeout_seconds=settings.scan_worker_timeout_seconds,
            lighthouse_timeout_seconds=settings.lighthouse_timeout_seconds,
        ),
    )


@contextlib.contextmanager
def using_services(replacement: AuditServices) -> Iterator[AuditServices]:
    """Serve with ``replacement`` inside the block (tests: a test database, moto)."""
    global _override
    previous, _override = _override, replacement
    try:
        yield replacement
    finally:
        _override = previous


_ERROR_DESCRIPTIONS = {
    400: "Invalid request (the message names the field)",
    401: "Missing, invalid or expired token",
    404: "No such scan (or not yours)",
    409: "The Idempotency-Key was used for a different request",
    429: "Rate limited; Retry-After says when to try again",
    502: "The queue or the database is unavailable; try again",
}


def _errors(*statuses: int, described: dict[int, str] | None = None) -> dict[int, OpenAPIResponse]:
    responses: dict[int, OpenAPIResponse] = {}
    for status in statuses:
        response: OpenAPIResponse = {
            "description": (described or {}).get(status) or _ERROR_DESCRIPTIONS[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        if status == 429:
            retry_after: dict[str, Any] = {"type": "integer"}
            response["headers"] = {
                "Retry-After": {"description": "Seconds until a scan may be created", "schema": retry_after}
            }
        responses[status] = response
    return responses


_QUEUED: OpenAPIResponse = {
    "description": "The scan, queued (for a repeated Idempotency-Key: the same scan, as it is now)",
    "headers": {
        "Location": {"description": "Where to poll the scan", "schema": {"type": "string"}},
        "Idempotent-Replayed": {
            "description": "true when this answers a repeated Idempotency-Key",
            "schema": {"type": "string"},
        },
    },
    "content": {"application/json": {"model": scans.Scan}},
}


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Repeat a request with the same key to get the same scan, never a second one.",
    ),
]


@app.post(
    "/scans",
    summary="Queue a scan of a web page",
    tags=["audit"],
    security=BEARER,
    middlewares=[scan_readers],
    responses={202: _QUEUED, **_errors(400, 401, 409, 429, 502)},
)
def create_scan(request: scans.ScanRequest, idempotency_key: IdempotencyKey = None) -> Response[scans.Scan]:
    wiring = services()
    created = runtime.run(
        scans.create_scan(
            request,
            app.principal(),
            idempotency_key=idempotency_key,
            store=wiring.store,
            queue=wiring.queue,
            policy=wiring.policy,
            rate_limit=wiring.rate_limit,
            max_runs=wiring.max_runs,
        )
    )
    headers = {"Location": f"/scans/{created.scan.id}"}
    if created.replayed:
        headers["Idempotent-Replayed"] = "true"
    else:
        metrics.add_metric(name="ScansQueued", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body=created.scan,
        headers=headers,
    )


@app.get(
    "/scans",
    summary="List your scans, newest first",
    tags=["audit"],
    security=BEARER,
    middlewares=[scan_readers],
    responses=_errors(401, 502),
)
def list_scans(
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=scans.MAX_PAGE_SIZE)] = scans.DEFAULT_PAGE_SIZE,
) -> scans.ScanPage:
    return runtime.run(scans.list_scans(app.principal(), store=services().store, cursor=cursor, limit=limit))


@app.get(
    "/scans/<scan_id>",
    summary="A scan: status, result and artifact links",
    tags=["audit"],
    security=BEARER,
    middlewares=[scan_readers],
    responses=_errors(401, 404, 502),
)
def get_scan(scan_id: str) -> scans.ScanDetail:
    wiring = services()
    return runtime.run(
        scans.get_scan(scan_id, app.principal(), store=wiring.store, artifacts=wiring.artifacts)
    )


@app.get(
    "/scans/<scan_id>/diff",
    summary="What changed since an earlier scan of the same page: deltas, axe violations, regressions",
    tags=["audit"],
    security=BEARER,
    middlewares=[scan_readers],
    responses=_errors(
        400,
        401,
        404,
        409,
        502,
        described={
            404: "No such scan (or not yours), or no earlier finished scan of its page and device",
            409: "One of the two scans has not finished with results",
        },
    ),
)
def diff_scan(
    scan_id: str,
    against: Annotated[
        str | None,
        Query(description="The scan to compare with (default: your previous finished scan of the page)"),
    ] = None,
    threshold: Annotated[
        float, Query(ge=0, le=1, description="A score drop beyond this (0-1) is a regression")
    ] = DEFAULT_REGRESSION_THRESHOLD,
) -> ScanDiff:
    return runtime.run(
        history.diff_scan(
            scan_id, app.principal(), store=services().store, against=against, threshold=threshold
        )
    )


@app.get(
    "/history",
    summary="Your scans of one page on one device, newest first",
    tags=["audit"],
    security=BEARER,
    middlewares=[scan_readers],
    responses=_errors(400, 401, 502),
)
def scan_history(
    url: Annotated[str, Query(min_length=1, max_length=scans.MAX_URL_LENGTH, description="The page")],
    device: Annotated[Device, Query(description="The emulated device of the scans")] = "mobile",
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=scans.MAX_PAGE_SIZE)] = scans.DEFAULT_PAGE_SIZE,
) -> history.HistoryPage:
    return runtime.run(
        history.scan_history(url, device, app.principal(), store=services().store, cursor=cursor, limit=limit)
    )
