"""Rows for webhook tests, written with plain SQL as the scan worker closing a run writes
them: a monitor, a finished run and its outbox event."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

Db = psycopg.AsyncConnection[dict[str, Any]]
SECRET = "whsec_" + "s" * 40
OWNER = "user:user-1"


async def add_monitor(db: Db, webhook_url: str | None, *, owner: str = OWNER) -> UUID:
    row = await (
        await db.execute(
            """insert into public.monitors (owner, name, urls, webhook_url, webhook_secret)
               values (%s, 'site', '["https://example.com/"]', %s, %s) returning id""",
            (owner, webhook_url, SECRET),
        )
    ).fetchone()
    assert row is not None
    return UUID(str(row["id"]))


async def add_event(
    db: Db,
    monitor_id: UUID,
    *,
    event_type: str = "monitor.run.finished",
    created_at: datetime | None = None,
) -> UUID:
    run = await (
        await db.execute(
            """insert into public.monitor_runs (monitor_id, owner, trigger, status, finished_at)
               select id, owner, 'manual', 'finished', now() from public.monitors where id = %s
               returning id""",
            (monitor_id,),
        )
    ).fetchone()
    assert run is not None
    payload = {
        "type": event_type,
        "monitor": {"id": str(monitor_id)},
        "run": {"id": str(run["id"])},
        "pages": [],
    }
    event = await (
        await db.execute(
            """insert into public.webhook_events (monitor_id, run_id, type, payload, created_at)
               values (%s, %s, %s, %s, coalesce(%s, now())) returning id""",
            (monitor_id, run["id"], event_type, json.dumps(payload), created_at),
        )
    ).fetchone()
    assert event is not None
    return UUID(str(event["id"]))


async def event_row(db: Db, event_id: UUID) -> dict[str, Any]:
    row = await (
        await db.execute("select * from public.webhook_events where id = %s", (event_id,))
    ).fetchone()
    assert row is not None
    return row


async def deliveries_of(db: Db, event_id: UUID) -> list[dict[str, Any]]:
    return await (
        await db.execute(
            "select * from public.webhook_deliveries where event_id = %s order by attempt", (event_id,)
        )
    ).fetchall()
