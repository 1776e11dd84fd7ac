"""The monitors' SQL functions on a real Postgres, through both store adapters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from scout.cursors import MonitorsPosition, decode_cursor
from scout.errors import NotFound
from scout.monitors.models import MonitorRequest
from scout.monitors.store import MonitorStore
from scout.store import Store

Db = psycopg.AsyncConnection[dict[str, Any]]
SECRET = "s" * 43


def request(**fields: Any) -> MonitorRequest:
    return MonitorRequest.model_validate({"name": "shop", "urls": ["https://shop.example/"], **fields})


async def test_a_created_monitor_shows_its_secret_once_and_then_never(store: Store, db: Db) -> None:
    # Given a monitor with a schedule, a budget and a webhook
    monitors = MonitorStore(store)
    due = datetime.now(UTC) + timedelta(days=1)
    created = await monitors.create_monitor(
        "user:u1",
        request(
            schedule="rate(1 day)",
            budget={"scores": {"performance": 0.9}},
            webhook_url="https://hooks.example/in",
            exclude=["/admin/*"],
        ),
        webhook_secret=SECRET,
        next_run_at=due,
    )
    # Then the answer carries the secret and every field as asked
    assert created.webhook_secret == SECRET
    assert created.budget == {"scores": {"performance": 0.9}, "metrics": {}, "axe": {}}
    assert (created.schedule, created.exclude, created.max_pages) == ("rate(1 day)", ["/admin/*"], 50)
    assert created.next_run_at == due
    # And reading it back never shows the secret
    read = await monitors.get_monitor(created.id, "user:u1")
    assert "webhook_secret" not in read.model_dump()
    assert read.model_dump() == created.model_dump(exclude={"webhook_secret"})
    # And the secret is stored for signing
    row = await (
        await db.execute("select webhook_secret from public.monitors where id = %s", (created.id,))
    ).fetchone()
    assert row == {"webhook_secret": SECRET}


async def test_a_monitor_without_a_schedule_is_never_due(store: Store) -> None:
    # Given a monitor with no schedule, asked to be due anyway
    created = await MonitorStore(store).create_monitor(
        "user:u1", request(), webhook_secret=SECRET, next_run_at=datetime.now(UTC)
    )
    # Then it has no next run
    assert created.next_run_at is None


async def test_another_owners_monitor_is_missing_to_read_and_to_delete(store: Store) -> None:
    # Given a monitor of user u1
    monitors = MonitorStore(store)
    created = await monitors.create_monitor("user:u1", request(), webhook_secret=SECRET, next_run_at=None)
    # When user u2 or a service reads or deletes it, Then it does not exist for them
    for stranger in ("user:u2", "service:u1"):
        with pytest.raises(NotFound):
            await monitors.get_monitor(created.id, stranger)
        with pytest.raises(NotFound):
            await monitors.delete_monitor(created.id, stranger)
    # And its owner still has it, until deleting it
    assert (await monitors.get_monitor(created.id, "user:u1")).id == created.id
    await monitors.delete_monitor(created.id, "user:u1")
    with pytest.raises(NotFound):
        await monitors.get_monitor(created.id, "user:u1")


async def test_monitors_are_listed_newest_first_a_page_at_a_time_per_owner(store: Store) -> None:
    # Given three monitors of u1 and one of u2
    monitors = MonitorStore(store)
    made = [
        await monitors.create_monitor(
            "user:u1", request(name=f"m{n}"), webhook_secret=SECRET, next_run_at=None
        )
        for n in range(3)
    ]
    await monitors.create_monitor("user:u2", request(name="theirs"), webhook_secret=SECRET, next_run_at=None)
    # When u1 lists two at a time
    first = await monitors.list_monitors("user:u1", None, 2)
    second = await monitors.list_monitors("user:u1", decode_cursor(MonitorsPosition, first.next_cursor), 2)
    # Then u1 sees only theirs, newest first, and the list ends
    assert [m.name for m in first.items + second.items] == ["m2", "m1", "m0"]
    assert {m.id for m in first.items + second.items} == {m.id for m in made}
    assert second.next_cursor is None
