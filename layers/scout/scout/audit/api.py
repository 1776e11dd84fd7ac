"""The audit function's HTTP API: POST /scans, GET /scans, GET /scans/{scan_id},
GET /scans/{scan_id}/diff and GET /history, and the monitors' routes (scout.monitors.api,
scout.monitors.deliveries_api).

Each route authenticates (user or service token), calls one function of
:mod:`scout.audit.scans` or :mod:`scout.audit.history` on the process's event loop, and
shapes the response. This module
stays light for the API's cold start: no Playwright, no scan engine.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.metrics import MetricUnit

from scout import deps, runtime
from scout.api_docs import docs_router
from scout.audit import history, scans
from scout.audit.diffs import DEFAULT_REGRESSION_THRESHOLD, ScanDiff
from scout.audit.models import Scan, ScanDetail, ScanPage, ScanRequest
from scout.audit.result import Device
from scout.auth import Strategy
from scout.egress.urls import MAX_URL_LENGTH
from scout.http_api import BEARER, ScoutRoutes, error_answers
from scout.monitors.api import router as monitors_router
from scout.monitors.deliveries_api import router as deliveries_router
from scout.observability import metrics
from scout.settings import Settings

app = ScoutRoutes(title="scout audit API")
app.include_router(docs_router)
app.include_router(monitors_router)
app.include_router(deliveries_router)
scan_readers = app.requires(Strategy.USER, Strategy.SERVICE)


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


_ERROR_DESCRIPTIONS = {
    400: "Invalid request (the message names the field)",
    401: "Missing, invalid or expired token",
    404: "No such scan (or not yours)",
    409: "The Idempotency-Key was used for a different request",
    429: "Rate limited; Retry-After says when to try again",
    502: "The queue or the database is unavailable; try again",
}


_QUEUED: OpenAPIResponse = {
    "description": "The scan, queued (for a repeated Idempotency-Key: the same scan, as it is now)",
    "headers": {
        "Location": {"description": "Where to poll the scan", "schema": {"type": "string"}},
        "Idempotent-Replayed": {
            "description": "true when this answers a repeated Idempotency-Key",
            "schema": {"type": "string"},
        },
    },
    "content": {"application/json": {"model": Scan}},
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
    responses={202: _QUEUED, **error_answers(_ERROR_DESCRIPTIONS, 400, 401, 409, 429, 502)},
)
def create_scan(request: ScanRequest, idempotency_key: IdempotencyKey = None) -> Response[Scan]:
    parts = deps.current()
    created = runtime.run(
        scans.create_scan(
            request,
            app.principal(),
            idempotency_key=idempotency_key,
            store=parts.store(),
            queue=parts.scan_queue(),
            policy=parts.egress_policy(),
            rate_limit=parts.scan_rate_limit(),
            max_runs=parts.scan_max_runs(),
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
    responses={
        200: {
            "description": "A page of your scans, newest first; next_cursor continues",
            "content": {"application/json": {"model": ScanPage}},
        },
        **error_answers(_ERROR_DESCRIPTIONS, 401, 502),
    },
)
def list_scans(
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=scans.MAX_PAGE_SIZE)] = scans.DEFAULT_PAGE_SIZE,
) -> ScanPage:
    return runtime.run(
        scans.list_scans(app.principal(), store=deps.current().store(), cursor=cursor, limit=limit)
    )


@app.get(
    "/scans/<scan_id>",
    summary="A scan: status, result and artifact links",
    tags=["audit"],
    security=BEARER,
    middlewares=[scan_readers],
    responses={
        200: {
            "description": "The scan: its status, and once finished its result and artifact links",
            "content": {"application/json": {"model": ScanDetail}},
        },
        **error_answers(_ERROR_DESCRIPTIONS, 401, 404, 502),
    },
)
def get_scan(scan_id: str) -> ScanDetail:
    parts = deps.current()
    return runtime.run(
        scans.get_scan(scan_id, app.principal(), store=parts.store(), artifacts=parts.artifacts())
    )


_DIFF_ERRORS = {
    **_ERROR_DESCRIPTIONS,
    404: "No such scan (or not yours), or no earlier finished scan of its page and device",
    409: "One of the two scans has not finished with results",
}


@app.get(
    "/scans/<scan_id>/diff",
    summary="What changed since an earlier scan of the same page: deltas, axe violations, regressions",
    tags=["audit"],
    security=BEARER,
    middlewares=[scan_readers],
    responses=error_answers(_DIFF_ERRORS, 400, 401, 404, 409, 502),
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
            scan_id, app.principal(), store=deps.current().store(), against=against, threshold=threshold
        )
    )


@app.get(
    "/history",
    summary="Your scans of one page on one device, newest first",
    tags=["audit"],
    security=BEARER,
    middlewares=[scan_readers],
    responses=error_answers(_ERROR_DESCRIPTIONS, 400, 401, 502),
)
def scan_history(
    url: Annotated[str, Query(min_length=1, max_length=MAX_URL_LENGTH, description="The page")],
    device: Annotated[Device, Query(description="The emulated device of the scans")] = "mobile",
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=scans.MAX_PAGE_SIZE)] = scans.DEFAULT_PAGE_SIZE,
) -> history.HistoryPage:
    return runtime.run(
        history.scan_history(
            url, device, app.principal(), store=deps.current().store(), cursor=cursor, limit=limit
        )
    )
