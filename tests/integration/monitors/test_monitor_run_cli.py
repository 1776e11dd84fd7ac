"""``scout monitor run ID`` as a developer runs it: a real process over the test database,
real Chromium, Lighthouse and axe on loopback pages (let through the egress guard by
SCOUT_EGRESS_ALLOW, as in development), the run's counts and the exit status."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from scout.monitors.models import MonitorRequest
from scout.monitors.store import MonitorStore
from scout.store.postgres import PostgresStore
from tests.integration.audit.conftest import CHROMIUM
from tests.integration.audit.servers import SiteServer, shop_routes

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shop() -> Iterator[SiteServer]:
    with SiteServer(shop_routes()) as site:
        yield site


def scout_monitor_run(monitor_id: str, database_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ALLOWED_HOSTS": "localhost",
        "CHROMIUM_PATH": CHROMIUM,
        "DATABASE_URL": database_url,
        "SCOUT_EGRESS_ALLOW": "127.0.0.1",
        "SCAN_NAVIGATION_TIMEOUT_SECONDS": "20",
    }
    env.pop("REPORTS_BUCKET", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "scout",
            "monitor",
            "run",
            monitor_id,
            "--artifacts",
            str(tmp_path / "artifacts"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


async def make_monitor(store: PostgresStore, urls: list[str], budget: dict[str, object]) -> UUID:
    request = MonitorRequest.model_validate(
        {"name": "shop", "urls": urls, "device": "desktop", "budget": budget}
    )
    created = await MonitorStore(store).create_monitor(
        "user:dev", request, webhook_secret="k" * 43, next_run_at=None
    )
    return created.id


async def test_a_run_scans_every_page_and_exits_1_when_a_page_misses_the_budget(
    shop: SiteServer, postgres_store: PostgresStore, clean_database: str, tmp_path: Path
) -> None:
    # Given a monitor over two loopback pages and a budget of at most one critical violation
    # (the shop page has two: an image without alt, an empty button; the about page none)
    monitor_id = await make_monitor(
        postgres_store, [shop.url("/"), shop.url("/about")], {"axe": {"critical": 1}}
    )
    # When it is run from the command line (stdout is a pipe: one line per page, no bar)
    done = scout_monitor_run(str(monitor_id), clean_database, tmp_path)
    # Then both pages were scanned, one held the budget and one did not, and the exit is 1
    assert done.returncode == 1, done.stderr[-3000:]
    page_lines = [line for line in done.stdout.splitlines() if line.startswith("page ")]
    assert [line.split()[1] for line in page_lines] == ["1/2", "2/2"]
    assert "\r" not in done.stdout
    assert "  pages       2 planned, 2 scanned, 0 failed" in done.stdout
    assert "  budget      1 passed, 1 failed" in done.stdout
    [run] = (await MonitorStore(postgres_store).list_runs(monitor_id, "user:dev", None, 5)).items
    assert (run.status, run.trigger, run.pages_scanned, run.budget_failed) == ("finished", "manual", 2, 1)
    # And each page's artifacts were saved under --artifacts
    assert len(list((tmp_path / "artifacts" / "scans").iterdir())) == 2


@pytest.mark.parametrize("monitor_id", [str(uuid4()), "not-a-monitor-id"])
def test_an_unknown_monitor_is_a_clear_error_and_exit_2(
    monitor_id: str, clean_database: str, tmp_path: Path
) -> None:
    # Given no such monitor; When it is run
    done = scout_monitor_run(monitor_id, clean_database, tmp_path)
    # Then the error names it, nothing is printed as a result, and the exit is 2
    assert done.returncode == 2
    assert "scout monitor run: No monitor" in done.stderr
    assert done.stdout == ""
