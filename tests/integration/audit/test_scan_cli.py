"""``scout scan`` in-process with a real engine: one event loop, one browser, warm repeats."""

from __future__ import annotations

import io
import json

import pytest
from scout.audit.axe import AxeScript
from scout.audit.egress_gate import UncheckedEgress
from scout.audit.engine import ScanEngine, ScanOptions
from scout.cli import build_parser
from scout.cli.audit import scan_command

from tests.integration.audit.conftest import CHROMIUM
from tests.integration.audit.servers import SiteServer, shop_routes

pytestmark = pytest.mark.slow


def test_repeated_scan_reuses_one_browser_and_one_lighthouse_worker(
    axe_script: AxeScript, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a shop page, and the command's engine built from settings (without the egress
    # guard, which refuses loopback pages)
    monkeypatch.setenv("ALLOWED_HOSTS", "localhost")
    monkeypatch.setenv("CHROMIUM_PATH", CHROMIUM)
    engines: list[ScanEngine] = []

    def engine_factory() -> ScanEngine:
        engine = ScanEngine(
            egress=UncheckedEgress(),
            axe_script=axe_script,
            options=ScanOptions(navigation_timeout_seconds=20),
        )
        engines.append(engine)
        return engine

    with SiteServer(shop_routes()) as site:
        args = build_parser().parse_args(["scan", site.url("/"), "--json", "--repeat", "2"])
        out = io.StringIO()

        # When `scout scan URL --json --repeat 2` runs
        status = scan_command(args, engine_factory=engine_factory, out=out)

    # Then it printed one complete result per scan
    assert status == 0
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [result["status"] for result in results] == ["succeeded", "succeeded"]
    assert all(result["axe"]["counts"]["critical"] >= 2 for result in results)
    # And both scans ran on the same browser and Lighthouse worker, which were then closed
    [engine] = engines
    assert engine.browser_pool.launches == 1
    assert engine.lighthouse.starts == 1
    assert engine.browser_pool.closed
    assert engine.lighthouse.pid is None
