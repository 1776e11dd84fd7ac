"""The monitor scheduler: on each tick, re-send run scans that never reached the queue, then
run every monitor its schedule made due."""

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
# A run's scan still unsent this long after it was recorded was lost by a failed or cut-off
# run start (which sends its scans right after recording them, well within this).
UNSENT_SECONDS = 120
# Scans re-sent per tick; the rest wait for the next one.
RESENDS_PER_TICK = 500


class SchedulerReport(BaseModel):
    claimed: int
    planned: int
    failed_plans: int
    errors: int
    resent: int = 0


async def resend_unsent_scans(
    *, store: Store, queue: ScanQueue, unsent_seconds: int = UNSENT_SECONDS, limit: int = RESENDS_PER_TICK
) -> int:
    """Send again the running runs' scans that a failed run start left off the queue.

    The claim marks them as sent in the same statement, with their rows locked, so two
    ticks never send one scan; a send that fails unmarks the scans not sent, for the next tick.
    Answers how many were sent.
    """
    monitors = MonitorStore(store)
    unsent = await monitors.claim_unsent_run_scans(unsent_seconds, limit)
    for number, scan in enumerate(unsent):
        try:
            await queue.send(scan.id, scan.target_host)
        except Exception:
            logger.exception("could not re-send a monitor run's scans", extra={"scan_id": str(scan.id)})
            await monitors.mark_scans_enqueued([rest.id for rest in unsent[number:]], sent=False)
            return number
    if unsent:
        logger.info("re-sent monitor run scans that never reached the queue", extra={"scans": len(unsent)})
    return len(unsent)


async def run_due_monitors(
    *,
    store: Store,
    queue: ScanQueue,
    sitemap_client: httpx.AsyncClient,
    limit: int = MONITORS_PER_TICK,
    lease_seconds: int = LEASE_SECONDS,
    webhook_queue: WebhookQueue | None = None,
) -> SchedulerReport:
    """Re-send lost run scans (:func:`resend_unsent_scans`), then claim due monitors and plan a
    scheduled run of each.

    One monitor's trouble (its queue send failing) is logged and leaves it leased: it is due
    again when the lease ends, and the others are planned meanwhile. With ``webhook_queue``,
    the tick then relays the webhook outbox: the safety net for events a scan worker's relay
    left there.
    """
    try:
        resent = await resend_unsent_scans(store=store, queue=queue)
    except Exception:
        logger.exception("could not re-send unsent monitor run scans")
        resent = 0
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
    return SchedulerReport(
        claimed=len(due), planned=planned, failed_plans=failed_plans, errors=errors, resent=resent
    )
