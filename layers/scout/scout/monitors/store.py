"""The monitors' SQL functions as typed methods (``tests/integration/store/test_sql_signatures.py``
holds every declaration against ``pg_proc``)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from scout.cursors import MonitorsPosition, encode_cursor
from scout.monitors.models import CreatedMonitor, Monitor, MonitorPage, MonitorRequest
from scout.store.functions import INTEGER, JSONB, TEXT, TIMESTAMPTZ, sql_function
from scout.store.functions import UUID as SQL_UUID
from scout.store.protocol import Store

CREATE_MONITOR = sql_function(
    "create_monitor", p_owner=TEXT, p_monitor=JSONB, p_webhook_secret=TEXT, p_next_run_at=TIMESTAMPTZ
)
GET_MONITOR = sql_function("get_monitor", p_monitor_id=SQL_UUID, p_owner=TEXT)
LIST_MONITORS = sql_function(
    "list_monitors", p_owner=TEXT, p_limit=INTEGER, p_after_created_at=TIMESTAMPTZ, p_after_id=SQL_UUID
)
DELETE_MONITOR = sql_function("delete_monitor", p_monitor_id=SQL_UUID, p_owner=TEXT)


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
            next_cursor=encode_cursor(
                MonitorsPosition,
                {"created_at": following["created_at"], "id": following["id"]} if following else None,
            ),
        )

    async def delete_monitor(self, monitor_id: UUID, owner: str) -> None:
        """Remove ``owner``'s monitor with its runs; ``NotFound`` for a missing one or another owner's."""
        await DELETE_MONITOR.call(self._store, p_monitor_id=monitor_id, p_owner=owner)
