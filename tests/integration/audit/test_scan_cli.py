"""``scout scan`` in-process with a real engine: one event loop, one browser, warm repeats."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scout.audit.axe import AxeScript
from scout.audit.engine import ScanEngine, ScanOptions
from scout.cli import build_parser
from scout.cli.audit import scan_command
from scout.settings import load_settings
from tests.integration.audit.conftest import CHROMIUM
from tests.integration.audit.processes import alive
from tests.integration.audit.servers import SiteServer, shop_routes
from tests.support.egress_gates import UncheckedEgress

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
        engine = ScanEngine.with_own_browsers(
            load_settings(),
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


EXITING_PROCESS = """
import sys
from scout import runtime
from scout.audit.browser_pool import BrowserPool
from scout.audit.lighthouse import LighthouseWorker
from tests.support.egress_gates import UncheckedEgress

async def close(part):
    await part.aclose()

gate = UncheckedEgress()
pool = runtime.pooled(
    lambda: BrowserPool(chromium_path=sys.argv[1], idle_seconds=600, egress=gate), lambda p: True, close
)
worker = runtime.pooled(
    lambda: LighthouseWorker(chromium_path=sys.argv[1], egress=gate), lambda w: True, close
)

async def start():
    await pool.get().browser()
    await worker.get().start()
    print(pool.get().tmp_dir, worker.get().tmp_dir, worker.get().chrome_pid)

runtime.run(start())
"""


def test_process_exit_closes_the_pooled_browser_and_worker_and_their_temp_folders() -> None:
    # Given a process (like `scout scan`) whose pooled browser and Lighthouse worker are running
    # When it exits without closing them itself
    finished = subprocess.run(
        [sys.executable, "-c", EXITING_PROCESS, CHROMIUM],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[3],
        env={**os.environ, "PYTHONPATH": "layers/scout", "POWERTOOLS_LOG_LEVEL": "WARNING"},
        check=True,
    )

    # Then the runtime closed them on the way out: no temp folder and no Chrome is left behind
    browser_tmp, worker_tmp, chrome_pid = finished.stdout.split()[-3:]
    assert not Path(browser_tmp).exists()
    assert not Path(worker_tmp).exists()
    assert not alive(int(chrome_pid))


SCAN_RESULT_FIELDS = {"url", "final_url", "device", "status", "error", "lighthouse", "axe", "timings"}


def test_scan_json_prints_only_scan_results_on_stdout_and_logs_on_stderr() -> None:
    # Given a loopback shop page that the egress policy is told to let through
    environment = {
        **os.environ,
        "PYTHONPATH": "layers/scout",
        "ALLOWED_HOSTS": "localhost",
        "CHROMIUM_PATH": CHROMIUM,
        "SCOUT_EGRESS_ALLOW": "127.0.0.1",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    with SiteServer(shop_routes()) as site:
        # When `scout scan URL --json --repeat 2` runs as a user runs it, piped
        finished = subprocess.run(
            [sys.executable, "-m", "scout", "scan", site.url("/"), "--json", "--repeat", "2"],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=Path(__file__).resolve().parents[3],
            env=environment,
        )

    # Then every line of stdout is a scan result, one per scan
    assert finished.returncode == 0, finished.stderr[-2000:]
    results = [json.loads(line) for line in finished.stdout.splitlines()]
    assert len(results) == 2
    assert all(set(result) >= SCAN_RESULT_FIELDS for result in results)
    assert [result["status"] for result in results] == ["succeeded", "succeeded"]
    # And the engine's log records went to stderr
    logged = [json.loads(line) for line in finished.stderr.splitlines() if line.startswith("{")]
    assert [record["message"] for record in logged].count("scan finished") == 2
