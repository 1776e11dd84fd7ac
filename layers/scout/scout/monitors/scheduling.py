"""The monitor scheduler: on each tick, run every monitor its schedule made due."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from scout.audit.scan_queue import ScanQueue
from scout.monitors.service import run_monitor
from scout.monitors.store import MonitorStore
from scout.monitors.webhook_relay import WebhookQueue, relay_outbox_logged
from scout.observability import logger
from scout.store import Store

if TYPE_CHECKING:
    import httpx

# Monitors planned per tick; the rest stay due for the next one.
MONITORS_PER_TICK = 20
# Longer than planning one monitor can take (the planner's own bound is 60 s).
LEASE_SECONDS = 300


class SchedulerReport(BaseModel):
    claimed: int
    planned: int
    failed_plans: int
    errors: int


async def run_due_monitors(
    *,
    store: Store,
    queue: ScanQueue,
    sitemap_client: httpx.AsyncClient,
    limit: int = MONITORS_PER_TICK,
    lease_seconds: int = LEASE_SECONDS,
    webhook_queue: WebhookQueue | None = None,
) -> SchedulerReport:
    """Claim due monitors and plan a scheduled run of each.

    One monitor's trouble (its queue send failing) is logged and leaves it leased: it is due
    again when the lease ends, and the others are planned meanwhile. With ``webhook_queue``,
    the tick then relays the webhook outbox: the safety net for events a scan worker's relay
    left there.
    """
    due = await MonitorStore(store).claim_due_monitors(limit, lease_seconds)
    planned = failed_plans = errors = 0
    for monitor in due:
        try:
            run = await run_monitor(
                monitor.id,
                monitor.owner,
                trigger="schedule",
                store=store,
                queue=queue,
                sitemap_client=sitemap_client,
            )
        except Exception:
            logger.exception("scheduled monitor run failed", extra={"monitor_id": str(monitor.id)})
            errors += 1
            continue
        if run.status == "failed":
            failed_plans += 1
        else:
            planned += 1
    if webhook_queue is not None:
        relayed = await relay_outbox_logged(store, webhook_queue, after="scheduler tick")
        logger.info("webhook outbox relayed", extra={"relayed": relayed})
    return SchedulerReport(claimed=len(due), planned=planned, failed_plans=failed_plans, errors=errors)
