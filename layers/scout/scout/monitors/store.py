"""The monitors' SQL functions as typed methods (``tests/integration/store/test_sql_signatures.py``
holds every declaration against ``pg_proc``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from scout.cursors import MonitorRunsPosition, MonitorsPosition, encode_cursor
from scout.errors import ErrorInfo
from scout.monitors.models import (
    CreatedMonitor,
    Monitor,
    MonitorPage,
    MonitorRequest,
    MonitorRun,
    MonitorRunPage,
    RunTrigger,
)
from scout.store.functions import BOOLEAN, INTEGER, JSONB, TEXT, TIMESTAMPTZ, sql_function
from scout.store.functions import UUID as SQL_UUID
from scout.store.protocol import Store

CREATE_MONITOR = sql_function(
    "create_monitor", p_owner=TEXT, p_monitor=JSONB, p_webhook_secret=TEXT, p_next_run_at=TIMESTAMPTZ
)
GET_MONITOR = sql_function("get_monitor", p_monitor_id=SQL_UUID, p_owner=TEXT)
LIST_MONITORS = sql_function(
    "list_monitors", p_owner=TEXT, p_limit=INTEGER, p_after_created_at=TIMESTAMPTZ, p_after_id=SQL_UUID
)
UPDATE_MONITOR = sql_function(
    "update_monitor", p_monitor_id=SQL_UUID, p_owner=TEXT, p_changes=JSONB, p_next_run_at=TIMESTAMPTZ
)
DELETE_MONITOR = sql_function("delete_monitor", p_monitor_id=SQL_UUID, p_owner=TEXT)
START_MONITOR_RUN = sql_function(
    "start_monitor_run",
    p_monitor_id=SQL_UUID,
    p_owner=TEXT,
    p_trigger=TEXT,
    p_pages=JSONB,
    p_error=JSONB,
    p_next_run_at=TIMESTAMPTZ,
)
LIST_MONITOR_RUNS = sql_function(
    "list_monitor_runs",
    p_monitor_id=SQL_UUID,
    p_owner=TEXT,
    p_limit=INTEGER,
    p_after_created_at=TIMESTAMPTZ,
    p_after_id=SQL_UUID,
)

CLAIM_DUE_MONITORS = sql_function("claim_due_monitors", p_limit=INTEGER, p_lease_seconds=INTEGER)
MARK_SCANS_ENQUEUED = sql_function("mark_scans_enqueued", p_scan_ids=JSONB, p_sent=BOOLEAN)
GET_MONITOR_OWNER = sql_function("get_monitor_owner", p_monitor_id=SQL_UUID)
CLAIM_UNSENT_RUN_SCANS = sql_function("claim_unsent_run_scans", p_unsent_seconds=INTEGER, p_limit=INTEGER)


class DueMonitor(BaseModel):
    id: UUID
    owner: str


@dataclass(frozen=True)
class PlannedPage:
    url: str
    target_host: str


class QueuedScan(BaseModel):
    """A scan the run made, to be put on the scan queue."""

    id: UUID
    url: str
    target_host: str


class UnsentScan(BaseModel):
    """A run's scan that never reached the scan queue, claimed to be sent now."""

    id: UUID
    target_host: str


@dataclass(frozen=True)
class StartedRun:
    run: MonitorRun
    scans: list[QueuedScan]


class MonitorStore:
    """Monitors over any :class:`scout.store.Store`; every method is scoped to one owner."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def create_monitor(
        self, owner: str, request: MonitorRequest, *, webhook_secret: str, next_run_at: datetime | None
    ) -> CreatedMonitor:
        fields = request.model_dump(mode="json", exclude={"budget"})
        fields["budget"] = request.budget.limits() if request.budget else None
        created = await CREATE_MONITOR.call(
            self._store,
            p_owner=owner,
            p_monitor=fields,
            p_webhook_secret=webhook_secret,
            p_next_run_at=next_run_at,
        )
        return CreatedMonitor.model_validate(created)

    async def get_monitor(self, monitor_id: UUID, owner: str) -> Monitor:
        """``owner``'s monitor; ``NotFound`` for a missing one or another owner's."""
        return Monitor.model_validate(
            await GET_MONITOR.call(self._store, p_monitor_id=monitor_id, p_owner=owner)
        )

    async def list_monitors(self, owner: str, after: MonitorsPosition | None, limit: int) -> MonitorPage:
        page = await LIST_MONITORS.call(
            self._store,
            p_owner=owner,
            p_limit=limit,
            p_after_created_at=after.created_at if after else None,
            p_after_id=after.id if after else None,
        )
        following = page.get("next")
        return MonitorPage(
            items=[Monitor.model_validate(item) for item in page["items"]],
            next_cursor=encode_cursor(MonitorsPosition, following),
        )

    async def update_monitor(
        self, monitor_id: UUID, owner: str, changes: dict[str, object], *, next_run_at: datetime | None
    ) -> Monitor:
        """Apply a patch's ``changes``; ``NotFound`` for a missing monitor or another owner's."""
        updated = await UPDATE_MONITOR.call(
            self._store, p_monitor_id=monitor_id, p_owner=owner, p_changes=changes, p_next_run_at=next_run_at
        )
        return Monitor.model_validate(updated)

    async def delete_monitor(self, monitor_id: UUID, owner: str) -> None:
        """Remove ``owner``'s monitor with its runs; ``NotFound`` for a missing one or another owner's."""
        await DELETE_MONITOR.call(self._store, p_monitor_id=monitor_id, p_owner=owner)

    async def start_run(
        self,
        monitor_id: UUID,
        owner: str,
        *,
        trigger: RunTrigger,
        pages: list[PlannedPage],
        error: ErrorInfo | None,
        next_run_at: datetime | None,
    ) -> StartedRun:
        """A run of the planned ``pages`` with a queued scan each, or failed with ``error``."""
        answer: dict[str, Any] = await START_MONITOR_RUN.call(
            self._store,
            p_monitor_id=monitor_id,
            p_owner=owner,
            p_trigger=trigger,
            p_pages=[{"url": page.url, "target_host": page.target_host} for page in pages],
            p_error=error.model_dump() if error else None,
            p_next_run_at=next_run_at,
        )
        return StartedRun(
            MonitorRun.model_validate(answer["run"]),
            [QueuedScan.model_validate(scan) for scan in answer["scans"]],
        )

    async def list_runs(
        self, monitor_id: UUID, owner: str, after: MonitorRunsPosition | None, limit: int
    ) -> MonitorRunPage:
        page = await LIST_MONITOR_RUNS.call(
            self._store,
            p_monitor_id=monitor_id,
            p_owner=owner,
            p_limit=limit,
            p_after_created_at=after.created_at if after else None,
            p_after_id=after.id if after else None,
        )
        following = page.get("next")
        return MonitorRunPage(
            items=[MonitorRun.model_validate(item) for item in page["items"]],
            next_cursor=encode_cursor(MonitorRunsPosition, following),
        )

    async def claim_due_monitors(self, limit: int, lease_seconds: int) -> list[DueMonitor]:
        """Due monitors of every owner, leased for ``lease_seconds`` (the scheduler's claim)."""
        claimed = await CLAIM_DUE_MONITORS.call(self._store, p_limit=limit, p_lease_seconds=lease_seconds)
        return [DueMonitor.model_validate(item) for item in claimed]

    async def mark_scans_enqueued(self, scan_ids: list[UUID], *, sent: bool = True) -> None:
        """Record that these scans are on the scan queue (so no tick re-sends them), or with
        ``sent=False`` that their re-send failed (so a later tick sends them, unless a worker has them)."""
        await MARK_SCANS_ENQUEUED.call(
            self._store, p_scan_ids=[str(scan_id) for scan_id in scan_ids], p_sent=sent
        )

    async def claim_unsent_run_scans(self, unsent_seconds: int, limit: int) -> list[UnsentScan]:
        """Running runs' scans never sent to the queue for ``unsent_seconds``, now marked as sent."""
        claimed = await CLAIM_UNSENT_RUN_SCANS.call(
            self._store, p_unsent_seconds=unsent_seconds, p_limit=limit
        )
        return [UnsentScan.model_validate(item) for item in claimed]

    async def monitor_owner(self, monitor_id: UUID) -> str:
        """Whose monitor this is (the local CLI's lookup); ``NotFound`` for a missing one."""
        answer = await GET_MONITOR_OWNER.call(self._store, p_monitor_id=monitor_id)
        return str(answer["owner"])
