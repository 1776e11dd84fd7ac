"""A monitor over listed pages, and a manual run of it through the service, as the API starts one."""

from __future__ import annotations

import httpx

from scout.audit.scan_queue import ScanQueue
from scout.monitors.models import Monitor, MonitorRequest, MonitorRun
from scout.monitors.service import run_monitor
from scout.monitors.store import MonitorStore
from scout.store.postgres import PostgresStore

OWNER = "user:u1"


async def create_listed_monitor(
    store: PostgresStore, urls: list[str], *, webhook_url: str | None = None
) -> Monitor:
    request = MonitorRequest.model_validate({"name": "site", "urls": urls, "webhook_url": webhook_url})
    return await MonitorStore(store).create_monitor(OWNER, request, webhook_secret="k" * 43, next_run_at=None)


async def run_listed_monitor(store: PostgresStore, monitor: Monitor, queue: ScanQueue) -> MonitorRun:
    async with httpx.AsyncClient() as unused_client:  # listed pages: the planner fetches nothing
        return await run_monitor(
            monitor.id, OWNER, trigger="manual", store=store, queue=queue, sitemap_client=unused_client
        )
