"""``scout scan --budget FILE`` as a CI job runs it: a real process, Chromium, Lighthouse and axe
on a loopback page (let through the egress guard by SCOUT_EGRESS_ALLOW, as in development),
and the exit status a build step reads: 0 passed, 1 budget failed, 2 scan failed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.audit.conftest import CHROMIUM
from tests.integration.audit.servers import SiteServer, shop_routes, unused_port_url

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shop() -> Iterator[SiteServer]:
    with SiteServer(shop_routes()) as site:
        yield site


def scout_scan(
    url: str, budget: dict[str, object], tmp_path: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    budget_file = tmp_path / "budget.json"
    budget_file.write_text(json.dumps(budget))
    env = {
        **os.environ,
        "ALLOWED_HOSTS": "localhost",
        "CHROMIUM_PATH": CHROMIUM,
        "SCOUT_EGRESS_ALLOW": "127.0.0.1",
        "SCAN_NAVIGATION_TIMEOUT_SECONDS": "20",
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "scout",
            "scan",
            url,
            "--device",
            "desktop",
            "--budget",
            str(budget_file),
            *extra,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )


def test_a_budget_the_page_holds_exits_0(shop: SiteServer, tmp_path: Path) -> None:
    # The shop page has two critical violations (an image without alt, an empty button)
    done = scout_scan(shop.url("/"), {"axe": {"critical": 5}, "scores": {"seo": 0.1}}, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "budget      passed" in done.stdout


def test_a_budget_the_page_misses_exits_1_and_prints_the_failures(shop: SiteServer, tmp_path: Path) -> None:
    done = scout_scan(shop.url("/"), {"axe": {"critical": 0}}, tmp_path, "--json")
    assert done.returncode == 1, done.stderr[-2000:]
    [result] = [json.loads(line) for line in done.stdout.splitlines()]
    assert result["status"] == "succeeded"
    [failure] = result["budget"]["failures"]
    assert (failure["kind"], failure["key"], failure["limit"]) == ("axe", "critical", 0)
    assert failure["actual"] == result["axe"]["counts"]["critical"] >= 2


def test_a_scan_that_fails_exits_2_whatever_the_budget(tmp_path: Path) -> None:
    with unused_port_url() as nobody_listens:
        done = scout_scan(nobody_listens, {"axe": {"critical": 100}}, tmp_path, "--json")
    assert done.returncode == 2, done.stderr[-2000:]
    [result] = [json.loads(line) for line in done.stdout.splitlines()]
    assert result["status"] == "failed"
    assert "budget" not in result
