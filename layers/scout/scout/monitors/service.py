"""The monitor service: create, read, list and delete an owner's monitors (docs/monitors.md).

Free of HTTP and AWS types: the store and the egress policy are passed in. Owners are
principals as for scans (``user:<sub>``, ``service:<sub>``), and unlike scans a service reads
only the monitors it made: a monitor holds a webhook to call, which is its owner's alone.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from uuid import UUID

from scout.audit.scans import owner_of
from scout.auth import Principal
from scout.cursors import MonitorsPosition, decode_cursor
from scout.egress.policy import EgressPolicy, check_target_url
from scout.errors import BadRequest, NotFound
from scout.monitors.models import CreatedMonitor, Monitor, MonitorPage, MonitorRequest
from scout.monitors.store import MonitorStore
from scout.schedule_expressions import parse_schedule_expression
from scout.store import Store

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


async def delete_monitor(monitor_id: str, principal: Principal, *, store: Store) -> None:
    await MonitorStore(store).delete_monitor(monitor_uuid(monitor_id), owner_of(principal))


def monitor_uuid(monitor_id: str) -> UUID:
    try:
        return UUID(monitor_id)
    except ValueError:
        # No monitor can have this id: the truthful answer is that there is no such monitor.
        raise NotFound(f"No monitor {monitor_id[:64]!r} here.") from None
