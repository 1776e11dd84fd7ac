"""The monitor service: an owner's monitors, and their runs (docs/monitors.md).

Free of HTTP and AWS types: the store and the egress policy are passed in. Owners are
principals as for scans (``user:<sub>``, ``service:<sub>``), and unlike scans a service reads
only the monitors it made: a monitor holds a webhook to call, which is its owner's alone.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from scout.audit.scan_queue import ScanQueue
from scout.audit.scans import owner_of
from scout.auth import Principal
from scout.cursors import MonitorRunsPosition, MonitorsPosition, decode_cursor
from scout.egress.policy import EgressPolicy, check_target_url
from scout.egress.urls import parse_target_url
from scout.errors import BadRequest, ErrorInfo, NotFound, UpstreamFailed
from scout.monitors.models import (
    CreatedMonitor,
    Monitor,
    MonitorPage,
    MonitorPatch,
    MonitorRequest,
    MonitorRun,
    MonitorRunPage,
    RunTrigger,
)
from scout.monitors.store import MonitorStore, PlannedPage
from scout.observability import logger
from scout.schedule_expressions import parse_schedule_expression
from scout.store import Store

if TYPE_CHECKING:
    import httpx

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# 32 random bytes: the HMAC-SHA256 key of the monitor's webhook signatures.
SECRET_BYTES = 32


def next_run_after(schedule: str | None, moment: datetime) -> datetime | None:
    """When ``schedule`` next makes a monitor due after ``moment`` (None: never)."""
    return None if schedule is None else parse_schedule_expression(schedule).next_after(moment)


async def create_monitor(
    request: MonitorRequest, principal: Principal, *, store: Store, policy: EgressPolicy
) -> CreatedMonitor:
    """Record the monitor with a fresh webhook secret; a webhook to a private address is refused."""
    if request.webhook_url is not None:
        # Raises BlockedTarget or DnsFailed: refused before anything is stored. Each delivery
        # checks again at connect time, so a name that later resolves privately is still refused.
        await check_target_url(request.webhook_url, policy)
    return await MonitorStore(store).create_monitor(
        owner_of(principal),
        request,
        webhook_secret=secrets.token_urlsafe(SECRET_BYTES),
        next_run_at=next_run_after(request.schedule, datetime.now(UTC)),
    )


async def get_monitor(monitor_id: str, principal: Principal, *, store: Store) -> Monitor:
    return await MonitorStore(store).get_monitor(monitor_uuid(monitor_id), owner_of(principal))


async def list_monitors(
    principal: Principal, *, store: Store, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> MonitorPage:
    """The principal's monitors, newest first; ``next_cursor`` continues after this page."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise BadRequest(f"limit must be between 1 and {MAX_PAGE_SIZE}.")
    return await MonitorStore(store).list_monitors(
        owner_of(principal), decode_cursor(MonitorsPosition, cursor), limit
    )


async def update_monitor(
    monitor_id: str, patch: MonitorPatch, principal: Principal, *, store: Store, policy: EgressPolicy
) -> Monitor:
    """PATCH: the given fields replace the monitor's; a webhook to a private address is refused."""
    if patch.webhook_url is not None:
        await check_target_url(patch.webhook_url, policy)
    return await MonitorStore(store).update_monitor(
        monitor_uuid(monitor_id),
        owner_of(principal),
        patch.changes(),
        next_run_at=next_run_after(patch.schedule, datetime.now(UTC)),
    )


async def delete_monitor(monitor_id: str, principal: Principal, *, store: Store) -> None:
    await MonitorStore(store).delete_monitor(monitor_uuid(monitor_id), owner_of(principal))


async def run_monitor(
    monitor_id: UUID,
    owner: str,
    *,
    trigger: RunTrigger,
    store: Store,
    queue: ScanQueue,
    sitemap_client: httpx.AsyncClient,
) -> MonitorRun:
    """Plan the monitor's pages, record the run with one scan per page, and queue the scans.

    A plan that cannot be made (a hostile or unreachable sitemap) is a failed run carrying the
    planner's error, and nothing else is written. The scans go on the FIFO scan queue grouped
    by host, so one site's pages are audited one at a time and different sites in parallel.
    A scheduled run also moves the monitor's next due time on from now.
    """
    from scout.monitors.sitemaps import PageSource, SitemapError, plan_pages

    monitors = MonitorStore(store)
    monitor = await monitors.get_monitor(monitor_id, owner)
    next_run_at = next_run_after(monitor.schedule, datetime.now(UTC)) if trigger == "schedule" else None
    source = PageSource(
        urls=monitor.urls,
        sitemap=monitor.sitemap,
        max_pages=monitor.max_pages,
        include=monitor.include,
        exclude=monitor.exclude,
    )
    try:
        plan = await plan_pages(source, sitemap_client)
    except SitemapError as refused:
        logger.info(
            "monitor run could not be planned", extra={"monitor_id": str(monitor_id), "code": refused.code}
        )
        failed = await monitors.start_run(
            monitor_id,
            owner,
            trigger=trigger,
            pages=[],
            error=ErrorInfo(code=refused.code, message=refused.message),
            next_run_at=next_run_at,
        )
        return failed.run
    pages = [PlannedPage(url, parse_target_url(url).host) for url in plan.pages]
    started = await monitors.start_run(
        monitor_id, owner, trigger=trigger, pages=pages, error=None, next_run_at=next_run_at
    )
    sent: list[UUID] = []
    try:
        for scan in started.scans:
            await queue.send(scan.id, scan.target_host)
            sent.append(scan.id)
    except Exception as exc:
        # The scans stay queued in the store, unmarked, and the run stays running: the
        # scheduler's next tick re-sends them (resend_unsent_scans), so none is lost.
        logger.exception("could not queue a monitor run's scans", extra={"run_id": str(started.run.id)})
        await _mark_sent(monitors, sent)
        raise UpstreamFailed(
            "The run's scans could not all be queued; they will be queued again shortly.",
            code="queue_unavailable",
        ) from exc
    await _mark_sent(monitors, sent)
    return started.run


async def _mark_sent(monitors: MonitorStore, sent: list[UUID]) -> None:
    """Mark the sent scans; if that fails, a tick sends them again, which the queue and claim absorb."""
    if not sent:
        return
    try:
        await monitors.mark_scans_enqueued(sent)
    except Exception:
        logger.exception("could not mark a monitor run's scans as queued", extra={"scans": len(sent)})


async def request_run(
    monitor_id: str,
    principal: Principal,
    *,
    store: Store,
    queue: ScanQueue,
    sitemap_client: httpx.AsyncClient,
) -> MonitorRun:
    """POST /monitors/{monitor_id}/run: a manual run of the principal's monitor."""
    return await run_monitor(
        monitor_uuid(monitor_id),
        owner_of(principal),
        trigger="manual",
        store=store,
        queue=queue,
        sitemap_client=sitemap_client,
    )


async def list_runs(
    monitor_id: str,
    principal: Principal,
    *,
    store: Store,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> MonitorRunPage:
    """The monitor's runs, newest first; another owner's monitor is missing."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise BadRequest(f"limit must be between 1 and {MAX_PAGE_SIZE}.")
    return await MonitorStore(store).list_runs(
        monitor_uuid(monitor_id), owner_of(principal), decode_cursor(MonitorRunsPosition, cursor), limit
    )


def monitor_uuid(monitor_id: str) -> UUID:
    try:
        return UUID(monitor_id)
    except ValueError:
        # No monitor can have this id: the truthful answer is that there is no such monitor.
        raise NotFound(f"No monitor {monitor_id[:64]!r} here.") from None
