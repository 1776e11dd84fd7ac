"""The persistent Lighthouse worker: recycling after N runs, after a timeout, and failing to start;
performance-only runs and rendering a combined report."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Iterator

import pytest

from scout.audit.lighthouse import LighthouseWorker
from scout.audit.repeated_runs import combine_reports
from scout.audit.scan_errors import ScanFailure
from tests.integration.audit.conftest import CHROMIUM
from tests.integration.audit.processes import alive
from tests.integration.audit.servers import RawServer, SiteServer, shop_routes
from tests.support.egress_gates import UncheckedEgress

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture(scope="module")
def site() -> Iterator[SiteServer]:
    with SiteServer(shop_routes()) as server:
        yield server


async def test_worker_is_replaced_after_its_run_budget_and_leaves_nothing_behind(site: SiteServer) -> None:
    # Given a worker allowed one run per process
    worker = LighthouseWorker(chromium_path=CHROMIUM, egress=UncheckedEgress(), max_runs=1)
    try:
        first = await worker.run(site.url("/about"), "mobile", max_wait_for_load_ms=15_000)
        first_pid, first_chrome, first_tmp = worker.pid, worker.chrome_pid, worker.tmp_dir
        assert first_pid is not None
        assert first_chrome is not None
        assert first_tmp is not None

        # When it is given a second run
        second = await worker.run(site.url("/about"), "desktop", max_wait_for_load_ms=15_000)
        second_tmp = worker.tmp_dir
        assert second_tmp is not None

        # Then a fresh worker did it, and the old one, its Chrome and its files are gone
        assert worker.starts == 2
        assert worker.pid != first_pid
        assert not alive(first_pid)
        assert not alive(first_chrome)
        assert not first_tmp.exists()
        # And a run's report files do not outlive the run
        assert list(second_tmp.glob("run-*")) == []
        # And the fresh worker had nothing prepared for its first run
        assert not second.config_prepared
        # And both runs produced reports
        for run, form_factor in ((first, "mobile"), (second, "desktop")):
            assert run.summary.scores["accessibility"] is not None
            assert json.loads(run.report_json)["configSettings"]["formFactor"] == form_factor
            assert b"<html" in run.report_html
    finally:
        last_chrome, last_tmp = worker.chrome_pid, worker.tmp_dir
        await worker.aclose()
    # And closing it takes its Chrome and files with it
    assert last_chrome is not None
    assert not alive(last_chrome)
    assert last_tmp is not None
    assert not last_tmp.exists()


async def test_warm_worker_resolves_the_next_runs_configuration_ahead_with_the_same_settings(
    site: SiteServer,
) -> None:
    # Given a worker that has run Lighthouse once for a phone
    worker = LighthouseWorker(chromium_path=CHROMIUM, egress=UncheckedEgress())
    try:
        first = await worker.run(site.url("/about"), "mobile", max_wait_for_load_ms=15_000)

        # When the next phone run is asked for
        second = await worker.run(site.url("/about"), "mobile", max_wait_for_load_ms=15_000)
    finally:
        await worker.aclose()

    # Then its configuration had been resolved before it was asked for (the first had none)
    assert not first.config_prepared
    assert second.config_prepared
    # And Lighthouse measured both with the same settings and scored the same categories
    first_report, second_report = json.loads(first.report_json), json.loads(second.report_json)
    assert second_report["configSettings"] == first_report["configSettings"]
    assert second_report["categories"].keys() == first_report["categories"].keys()
    assert second_report["audits"].keys() == first_report["audits"].keys()
    assert second.summary.scores["accessibility"] is not None


async def test_a_performance_run_gathers_only_performance_with_the_full_runs_settings(
    site: SiteServer,
) -> None:
    # Given a worker that has run Lighthouse in full, told that a performance run comes next
    worker = LighthouseWorker(chromium_path=CHROMIUM, egress=UncheckedEgress())
    try:
        full = await worker.run(
            site.url("/"), "mobile", max_wait_for_load_ms=15_000, scope="full", next_scope="performance"
        )

        # When the performance run is asked for
        performance = await worker.run(
            site.url("/"), "mobile", max_wait_for_load_ms=15_000, scope="performance"
        )

        # And the two are combined into the median's report, which the worker renders
        combined = combine_reports(
            full.report_json, performance.report_json, full_number=1, performance_number=2
        )
        html = await worker.render_html(combined)
    finally:
        await worker.aclose()

    full_report, performance_report = json.loads(full.report_json), json.loads(performance.report_json)
    # Then its configuration was the one prepared for it
    assert performance.config_prepared
    # And it gathered the performance category alone: no other audit, no back/forward-cache
    # check, no full-page screenshot, no HTML report
    assert set(performance_report["categories"]) == {"performance"}
    assert "image-alt" not in performance_report["audits"]
    assert "bf-cache" not in performance_report["audits"]
    assert "fullPageScreenshot" not in performance_report
    assert performance.report_html is None
    assert performance.summary.scores["performance"] is not None
    assert performance.summary.scores["accessibility"] is None
    # And it measured with the full run's settings (throttling, form factor, screen, waits);
    # only what it gathers and writes differs
    differing = {
        key
        for key in full_report["configSettings"].keys() | performance_report["configSettings"].keys()
        if full_report["configSettings"].get(key) != performance_report["configSettings"].get(key)
    }
    assert differing == {"onlyCategories", "skipAudits", "disableFullPageScreenshot", "output"}
    assert performance_report["audits"].keys() <= full_report["audits"].keys()
    # And the combined report holds all four categories: performance from the second run
    report = json.loads(combined)
    assert set(report["categories"]) == {"performance", "accessibility", "best-practices", "seo"}
    assert (
        report["categories"]["performance"]["score"]
        == performance_report["categories"]["performance"]["score"]
    )
    # (its list of audits is the full run's, the skipped back/forward-cache check included)
    assert (
        report["categories"]["performance"]["auditRefs"]
        == full_report["categories"]["performance"]["auditRefs"]
    )
    assert report["categories"]["seo"] == full_report["categories"]["seo"]
    assert report["audits"].keys() == full_report["audits"].keys()
    assert report["audits"]["bf-cache"] == full_report["audits"]["bf-cache"]
    assert report["fullPageScreenshot"] == full_report["fullPageScreenshot"]
    # And Lighthouse's renderer made its HTML report from that combined report
    assert html.startswith(b"<!doctype html>") or b"<html" in html[:2000]
    assert b"This report combines two runs of the page" in html
    assert b'"best-practices"' in html


async def test_a_chrome_killed_between_runs_is_replaced_before_the_next_run(site: SiteServer) -> None:
    # Given a started worker whose Chrome is then killed, as the out-of-memory killer would
    worker = LighthouseWorker(chromium_path=CHROMIUM, egress=UncheckedEgress())
    try:
        await worker.start()
        killed_chrome = worker.chrome_pid
        assert killed_chrome is not None
        os.kill(killed_chrome, signal.SIGKILL)
        while alive(killed_chrome):
            await asyncio.sleep(0.01)
        # When a run is asked for at once, before the worker has noticed
        run = await worker.run(site.url("/about"), "mobile", max_wait_for_load_ms=15_000)
        # Then a fresh worker with a fresh Chrome did it, rather than failing it
        assert worker.starts == 2
        assert worker.chrome_pid not in (None, killed_chrome)
        assert run.summary.scores["accessibility"] is not None
    finally:
        await worker.aclose()


async def test_run_past_its_timeout_fails_and_the_worker_is_killed() -> None:
    # Given a worker with a short run timeout, and a page that never answers
    worker = LighthouseWorker(chromium_path=CHROMIUM, egress=UncheckedEgress(), run_timeout_seconds=3)
    try:
        await worker.start()
        pid, chrome_pid = worker.pid, worker.chrome_pid
        assert pid is not None
        assert chrome_pid is not None
        # When Lighthouse is run on it
        with RawServer("hang") as server, pytest.raises(ScanFailure) as caught:
            await worker.run(server.url(), "mobile", max_wait_for_load_ms=60_000)

        # Then the run failed as lighthouse_failed, saying how long it was given
        assert caught.value.code == "lighthouse_failed"
        assert "3 seconds" in caught.value.message
        # And the worker and its Chrome were killed, to be started afresh next time
        assert worker.pid is None
        assert not alive(pid)
        assert not alive(chrome_pid)
    finally:
        await worker.aclose()


async def test_worker_that_cannot_start_fails_the_run_with_its_reason(site: SiteServer) -> None:
    # Given a worker pointed at a browser that does not exist
    worker = LighthouseWorker(chromium_path="/nonexistent/chromium", egress=UncheckedEgress())
    try:
        # When it is asked for a run
        with pytest.raises(ScanFailure) as caught:
            await worker.run(site.url("/"), "mobile", max_wait_for_load_ms=5_000)
    finally:
        await worker.aclose()

    # Then the run fails as lighthouse_failed, with the worker's own words kept for the logs
    assert caught.value.code == "lighthouse_failed"
    assert caught.value.detail is not None
    assert "could not start" in caught.value.detail
