"""The monitors' routes, included in the audit API: POST /monitors, GET /monitors,
GET|PATCH|DELETE /monitors/{monitor_id}, POST /monitors/{monitor_id}/run and
GET /monitors/{monitor_id}/runs (user or service tokens; each owner sees only its own).

Each route authenticates, calls one function of :mod:`scout.monitors.service` on the
process's event loop, and shapes the response.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types

from scout import deps, runtime
from scout.auth import Strategy
from scout.cursors import DEFAULT_PAGE_SIZE
from scout.http_api import BEARER, PageCursor, PageLimit, ScoutRouter, error_answers, page_answers
from scout.monitors import service
from scout.monitors.models import (
    CreatedMonitor,
    Monitor,
    MonitorPage,
    MonitorPatch,
    MonitorRequest,
    MonitorRun,
    MonitorRunPage,
)

router = ScoutRouter()
monitor_owners = router.requires(Strategy.USER, Strategy.SERVICE)

_ERRORS = {
    400: "Invalid monitor (the message names the field), or a webhook to a private address",
    401: "Missing, invalid or expired token",
    404: "No such monitor (or not yours)",
    502: "The database is unavailable; try again",
}


@router.post(
    "/monitors",
    summary="Watch a site: its pages or its sitemap, on a schedule, with a webhook",
    tags=["monitors"],
    security=BEARER,
    middlewares=[monitor_owners],
    responses={
        201: {
            "description": "The monitor, with its webhook signing secret (shown only here)",
            "content": {"application/json": {"model": CreatedMonitor}},
        },
        **error_answers(_ERRORS, 400, 401, 502),
    },
)
def create_monitor(request: MonitorRequest) -> Response[CreatedMonitor]:
    parts = deps.current()
    created = runtime.run(
        service.create_monitor(request, router.principal(), store=parts.store(), policy=parts.egress_policy())
    )
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=created,
        headers={"Location": f"/monitors/{created.id}"},
    )


@router.get(
    "/monitors",
    summary="List your monitors, newest first",
    tags=["monitors"],
    security=BEARER,
    middlewares=[monitor_owners],
    responses=page_answers(MonitorPage, "A page of your monitors, newest first", _ERRORS, 400, 401, 502),
)
def list_monitors(cursor: PageCursor = None, limit: PageLimit = DEFAULT_PAGE_SIZE) -> MonitorPage:
    return runtime.run(
        service.list_monitors(router.principal(), store=deps.current().store(), cursor=cursor, limit=limit)
    )


@router.get(
    "/monitors/<monitor_id>",
    summary="One of your monitors",
    tags=["monitors"],
    security=BEARER,
    middlewares=[monitor_owners],
    responses={
        200: {"description": "The monitor", "content": {"application/json": {"model": Monitor}}},
        **error_answers(_ERRORS, 401, 404, 502),
    },
)
def get_monitor(monitor_id: str) -> Monitor:
    return runtime.run(service.get_monitor(monitor_id, router.principal(), store=deps.current().store()))


@router.patch(
    "/monitors/<monitor_id>",
    summary="Change a monitor: the fields given replace its own",
    tags=["monitors"],
    security=BEARER,
    middlewares=[monitor_owners],
    responses={
        200: {"description": "The monitor, changed", "content": {"application/json": {"model": Monitor}}},
        **error_answers(_ERRORS, 400, 401, 404, 502),
    },
)
def update_monitor(monitor_id: str, patch: MonitorPatch) -> Monitor:
    parts = deps.current()
    return runtime.run(
        service.update_monitor(
            monitor_id, patch, router.principal(), store=parts.store(), policy=parts.egress_policy()
        )
    )


@router.delete(
    "/monitors/<monitor_id>",
    summary="Stop watching: the monitor, its runs and its webhook events go; its scans stay",
    tags=["monitors"],
    security=BEARER,
    middlewares=[monitor_owners],
    responses={204: {"description": "Deleted"}, **error_answers(_ERRORS, 401, 404, 502)},
)
def delete_monitor(monitor_id: str) -> Response[None]:
    runtime.run(service.delete_monitor(monitor_id, router.principal(), store=deps.current().store()))
    return Response(status_code=204, body=None)


@router.post(
    "/monitors/<monitor_id>/run",
    summary="Run a monitor now: plan its pages and queue a scan of each",
    tags=["monitors"],
    security=BEARER,
    middlewares=[monitor_owners],
    responses={
        202: {
            "description": "The run: running with its scans queued, or failed when no plan could be made "
            "(its error says why: sitemap_too_large, sitemap_invalid, blocked_target, ...)",
            "content": {"application/json": {"model": MonitorRun}},
        },
        **error_answers(_ERRORS, 401, 404, 502),
    },
)
def run_monitor(monitor_id: str) -> Response[MonitorRun]:
    parts = deps.current()
    run = runtime.run(
        service.request_run(
            monitor_id,
            router.principal(),
            store=parts.store(),
            queue=parts.scan_queue(),
            sitemap_client=parts.sitemap_client(),
        )
    )
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=run)


@router.get(
    "/monitors/<monitor_id>/runs",
    summary="A monitor's runs, newest first: pages planned, scanned and failed, budgets, regressions",
    tags=["monitors"],
    security=BEARER,
    middlewares=[monitor_owners],
    responses=page_answers(
        MonitorRunPage, "A page of the monitor's runs, newest first", _ERRORS, 400, 401, 404, 502
    ),
)
def list_runs(
    monitor_id: str, cursor: PageCursor = None, limit: PageLimit = DEFAULT_PAGE_SIZE
) -> MonitorRunPage:
    return runtime.run(
        service.list_runs(
            monitor_id, router.principal(), store=deps.current().store(), cursor=cursor, limit=limit
        )
    )
