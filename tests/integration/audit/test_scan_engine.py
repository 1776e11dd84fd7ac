"""The scan engine end to end: real Chromium, the Lighthouse worker and axe on local pages.

Lighthouse runs take seconds, so one engine (one browser, one worker) serves the module,
as it would serve the scans of one warm execution environment.
"""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from scout.audit.axe import AxeScript
from scout.audit.browser_pool import BrowserPool
from scout.audit.devices import DEVICES
from scout.audit.engine import ScanEngine, ScanOptions
from scout.audit.lighthouse import LighthouseWorker
from scout.errors import BlockedTarget
from tests.integration.audit.conftest import CHROMIUM
from tests.integration.audit.processes import alive, browser_pids_using_tmpdir, kill
from tests.integration.audit.servers import CHALLENGE_PAGE, Gate, Reply, SiteServer, shop_routes, slow_page
from tests.support.egress_gates import UncheckedEgress

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]

DESIGN_RESULT_KEYS = {"url", "final_url", "device", "status", "error", "lighthouse", "axe", "timings"}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def engine(axe_script: AxeScript) -> AsyncIterator[ScanEngine]:
    egress = UncheckedEgress()
    pool = BrowserPool(chromium_path=CHROMIUM, idle_seconds=600, egress=egress)
    worker = LighthouseWorker(chromium_path=CHROMIUM, egress=egress, run_timeout_seconds=90)
    yield ScanEngine(
        browser_pool=pool,
        lighthouse=worker,
        egress=egress,
        axe_script=axe_script,
        options=ScanOptions(navigation_timeout_seconds=20),
    )
    await pool.aclose()
    await worker.aclose()


@pytest.fixture(scope="module")
def shop() -> Iterator[SiteServer]:
    with SiteServer(shop_routes()) as site:
        yield site


def png_width(png: bytes) -> int:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return int(struct.unpack(">I", png[16:20])[0])


async def test_scan_of_a_page_with_known_violations_reports_scores_violations_and_artifacts(
    engine: ScanEngine, shop: SiteServer
) -> None:
    # Given a shop page with an image and a field without text alternatives, an empty link
    # and button, faint text and no language, one of the images inside an iframe
    url = shop.url("/")

    # When it is scanned as a phone would see it
    outcome = await engine.scan(url, "mobile")

    # Then both halves succeeded
    result = outcome.result
    assert result.status == "succeeded", result.error
    assert result.error is None
    assert result.final_url == url
    assert set(result.to_json_dict()) == DESIGN_RESULT_KEYS

    # And Lighthouse scored the four categories (0-100) and reported its own run time
    assert result.lighthouse is not None
    scores = result.to_json_dict()["lighthouse"]["scores"]
    assert set(scores) == {"performance", "accessibility", "best-practices", "seo"}
    assert all(isinstance(score, int) and 0 <= score <= 100 for score in scores.values())
    assert scores["accessibility"] < 100
    assert result.lighthouse.timing.total_ms is not None
    assert result.lighthouse.timing.total_ms > 0

    # And axe found the planted violations with their impact, help text and elements
    assert result.axe is not None
    violations = {violation.id: violation for violation in result.axe.violations}
    expected = {
        "image-alt": "critical",
        "label": "critical",
        "button-name": "critical",
        "link-name": "serious",
        "color-contrast": "serious",
        "html-has-lang": "serious",
    }
    for rule, impact in expected.items():
        assert violations[rule].impact == impact
        assert violations[rule].help
        assert violations[rule].nodes
    assert any(node.html.startswith("<img") for node in violations["image-alt"].nodes)
    assert any(len(node.target) == 2 for node in violations["image-alt"].nodes), "the iframe's image"
    counts = result.axe.counts
    for impact in ("critical", "serious", "moderate", "minor"):
        assert getattr(counts, impact) == sum(1 for v in result.axe.violations if v.impact == impact)

    # And the timings of each part are there
    timings = result.timings
    assert None not in (timings.navigation_ms, timings.lighthouse_ms, timings.axe_ms)

    # And the artifacts are a phone-wide screenshot and the full reports
    artifacts = outcome.artifacts
    assert artifacts.screenshot_png is not None
    assert png_width(artifacts.screenshot_png) == round(DEVICES["mobile"].width * DEVICES["mobile"].scale)
    assert artifacts.lighthouse_html is not None
    assert b"<!doctype html>" in artifacts.lighthouse_html[:500].lower()
    assert artifacts.lighthouse_json is not None
    lhr = json.loads(artifacts.lighthouse_json)
    assert round(lhr["categories"]["accessibility"]["score"] * 100) == scores["accessibility"]
    assert artifacts.axe_json is not None
    assert {v["id"] for v in json.loads(artifacts.axe_json)["violations"]} == set(violations)
    assert [artifact.name for artifact in artifacts] == [
        "screenshot.png",
        "lighthouse.html",
        "lighthouse.json",
        "axe.json",
    ]


async def test_no_browser_of_a_scan_announces_itself_as_headless(
    engine: ScanEngine, shop: SiteServer
) -> None:
    # Given the shop has been scanned (by the scan browser and by Lighthouse's Chrome)
    if not shop.seen("/"):
        await engine.scan(shop.url("/"), "mobile")

    # When the site looks at who asked for its page
    visits = shop.seen("/")

    # Then no request says HeadlessChrome, in the User-Agent or in the client hints
    assert len(visits) >= 2
    for visit in visits:
        assert "Headless" not in visit.user_agent
        assert "Chrome/" in visit.user_agent
        assert "Headless" not in visit.client_hints


async def test_warm_desktop_scan_reuses_the_browser_and_the_lighthouse_worker(
    engine: ScanEngine, shop: SiteServer
) -> None:
    # Given an engine that has already scanned once
    await engine.browser_pool.browser()
    await engine.lighthouse.start()
    launches, starts = engine.browser_pool.launches, engine.lighthouse.starts

    # When a desktop scan follows
    outcome = await engine.scan(shop.url("/about"), "desktop")

    # Then it ran on the same browser and worker, at a desktop width
    assert outcome.result.status == "succeeded", outcome.result.error
    assert outcome.result.device == "desktop"
    assert (engine.browser_pool.launches, engine.lighthouse.starts) == (launches, starts)
    assert outcome.artifacts.screenshot_png is not None
    assert png_width(outcome.artifacts.screenshot_png) == DEVICES["desktop"].width
    assert outcome.artifacts.lighthouse_json is not None
    assert json.loads(outcome.artifacts.lighthouse_json)["configSettings"]["formFactor"] == "desktop"


async def test_scan_after_chromium_was_killed_mid_scan_relaunches_it_and_succeeds(engine: ScanEngine) -> None:
    # Given a page whose image the server holds, so the scan browser is mid-load
    browser = await engine.browser_pool.browser()
    scan_browser_ua = DEVICES["mobile"].user_agent(browser.version)
    gate = Gate(lambda request: request.headers.get("User-Agent") == scan_browser_ua)
    with SiteServer(slow_page(gate)) as site:
        scan = asyncio.create_task(engine.scan(site.url("/"), "mobile"))
        assert await asyncio.to_thread(gate.arrived.wait, 30)
        launches = engine.browser_pool.launches
        tmp_dir = engine.browser_pool.tmp_dir
        assert tmp_dir is not None

        # When the browser's main process is killed, as a crash or the OOM killer would
        [pid] = browser_pids_using_tmpdir(tmp_dir)
        kill(pid)
        gate.released.set()
        crashed = await scan

        # Then that scan says the browser crashed, and keeps what Lighthouse found
        assert crashed.result.error is not None
        assert crashed.result.error.code == "browser_crashed"
        assert crashed.result.status == "partial"
        assert crashed.result.lighthouse is not None
        assert crashed.result.axe is None

        # And the next scan gets a new browser and succeeds
        again = await engine.scan(site.url("/"), "mobile")
        assert again.result.status == "succeeded", again.result.error
        assert engine.browser_pool.launches == launches + 1
        # And the dead browser's temporary files are gone
        assert not tmp_dir.exists()


async def test_scan_after_the_lighthouse_worker_was_killed_mid_run_is_complete(engine: ScanEngine) -> None:
    # Given a page whose image the server holds for Lighthouse's Chrome (not the scan browser)
    browser = await engine.browser_pool.browser()
    await engine.lighthouse.start()
    scan_browser_ua = DEVICES["mobile"].user_agent(browser.version)
    gate = Gate(lambda request: request.headers.get("User-Agent") != scan_browser_ua)
    with SiteServer(slow_page(gate)) as site:
        scan = asyncio.create_task(engine.scan(site.url("/"), "mobile"))
        assert await asyncio.to_thread(gate.arrived.wait, 30)
        starts = engine.lighthouse.starts
        worker_pid, chrome_pid = engine.lighthouse.pid, engine.lighthouse.chrome_pid
        assert worker_pid is not None
        assert chrome_pid is not None

        # When the Node worker is killed in the middle of the run
        kill(worker_pid)
        gate.released.set()
        partial = await scan

        # Then the scan is partial: Lighthouse failed, axe and the screenshot are there
        assert partial.result.status == "partial"
        assert partial.result.error is not None
        assert partial.result.error.code == "lighthouse_failed"
        assert partial.result.lighthouse is None
        assert partial.result.axe is not None
        assert partial.artifacts.screenshot_png is not None
        # And the worker's orphaned Chrome did not outlive it
        assert not alive(chrome_pid)

        # And the next scan starts a new worker and is complete
        again = await engine.scan(site.url("/"), "mobile")
        assert again.result.status == "succeeded", again.result.error
        assert engine.lighthouse.starts == starts + 1


async def test_page_behind_a_bot_wall_fails_with_bot_blocked(engine: ScanEngine) -> None:
    # Given a site that answers every visitor with a 403 challenge page
    with SiteServer({"/": Reply(403, CHALLENGE_PAGE), "/favicon.ico": Reply(404)}) as site:
        # When it is scanned
        outcome = await engine.scan(site.url("/"), "desktop")

    # Then both halves failed and the error is the one a person can act on
    assert outcome.result.status == "failed"
    assert outcome.result.error is not None
    assert outcome.result.error.code == "bot_blocked"
    assert outcome.result.lighthouse is None
    assert outcome.result.axe is None
    assert list(outcome.artifacts) == []


class RefusingGate(UncheckedEgress):
    """The engine's egress seam refusing one host, as the guard refuses private addresses."""

    def __init__(self, refused_host: str) -> None:
        self.refused_host = refused_host

    async def check(self, url: str) -> str:
        checked = await super().check(url)
        if self.refused_host in url:
            raise BlockedTarget(f"{self.refused_host} is not a public address")
        return checked


async def test_blocked_target_fails_before_any_browser_visits_it(
    engine: ScanEngine, axe_script: AxeScript
) -> None:
    # Given an engine whose egress gate refuses the target's host
    with SiteServer(shop_routes()) as site:
        guarded = ScanEngine(
            browser_pool=engine.browser_pool,
            lighthouse=engine.lighthouse,
            egress=RefusingGate("127.0.0.1"),
            axe_script=axe_script,
            options=ScanOptions(navigation_timeout_seconds=20),
        )

        # When the target is scanned
        outcome = await guarded.scan(site.url("/"), "mobile")

        # Then the scan failed with blocked_target and nothing was fetched
        assert outcome.result.status == "failed"
        assert outcome.result.error is not None
        assert outcome.result.error.code == "blocked_target"
        assert outcome.result.final_url is None
        assert site.requests == []


async def test_url_that_is_not_http_fails_with_invalid_url(engine: ScanEngine) -> None:
    # Given a URL of another scheme
    # When it is scanned
    outcome = await engine.scan("ftp://127.0.0.1/files", "mobile")

    # Then the scan failed as invalid_url, with a sentence for people
    assert outcome.result.status == "failed"
    assert outcome.result.error is not None
    assert outcome.result.error.code == "invalid_url"
    assert "https://" in outcome.result.error.message
