"""The browser half of a scan against servers that fail in the ways real sites do.

Each failure must come out as scan error code a person can act on. These run the real
scan browser without Lighthouse (which fails the same pages in its own, slower way); so
does the check that a very long page's screenshot is cut at the height limit.
"""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from scout.audit.axe import AxeScript
from scout.audit.browser_pool import BrowserPool
from scout.audit.devices import DEVICES
from scout.audit.page_audit import PageAudit, PageAuditOptions, PageProgress, audit_page
from scout.audit.scan_errors import ScanFailure
from tests.integration.audit.conftest import CHROMIUM
from tests.integration.audit.servers import (
    CHALLENGE_PAGE,
    CLEAN_PAGE,
    RawServer,
    Reply,
    SiteServer,
    _Handler,
    self_signed_tls,
    shop_routes,
    unused_port_url,
)
from tests.support.egress_gates import UncheckedEgress

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]

NAVIGATION_TIMEOUT_SECONDS = 3.0


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def pool() -> AsyncIterator[BrowserPool]:
    browsers = BrowserPool(chromium_path=CHROMIUM, idle_seconds=600, egress=UncheckedEgress())
    yield browsers
    await browsers.aclose()


SCREENSHOT_MAX_HEIGHT = 2000


async def audit(pool: BrowserPool, axe_script: AxeScript, url: str) -> PageAudit:
    return await audit_page(
        url,
        DEVICES["desktop"],
        pool=pool,
        egress=UncheckedEgress(),
        axe_script=axe_script,
        options=PageAuditOptions(
            navigation_timeout_seconds=NAVIGATION_TIMEOUT_SECONDS,
            screenshot_max_height=SCREENSHOT_MAX_HEIGHT,
            network_idle_seconds=1,
        ),
        progress=PageProgress(),
    )


async def failure_of(pool: BrowserPool, axe_script: AxeScript, url: str) -> ScanFailure:
    with pytest.raises(ScanFailure) as caught:
        await audit(pool, axe_script, url)
    return caught.value


async def test_connection_reset_by_the_server_is_connection_failed(
    pool: BrowserPool, axe_script: AxeScript
) -> None:
    # Given a server that resets every connection
    with RawServer("reset") as server:
        # When the page is audited
        failure = await failure_of(pool, axe_script, server.url())

    # Then the site could not be reached
    assert failure.code == "connection_failed"
    assert "could not be reached" in failure.message


async def test_nothing_listening_is_connection_failed(pool: BrowserPool, axe_script: AxeScript) -> None:
    # Given a port nothing listens on
    with unused_port_url() as url:
        # When the page is audited
        failure = await failure_of(pool, axe_script, url)

    # Then the site could not be reached
    assert failure.code == "connection_failed"


async def test_server_that_never_answers_is_a_timeout(pool: BrowserPool, axe_script: AxeScript) -> None:
    # Given a server that accepts connections and never answers
    with RawServer("hang") as server:
        # When the page is audited
        failure = await failure_of(pool, axe_script, server.url())

    # Then it timed out, and says after how long
    assert failure.code == "timeout"
    assert f"{NAVIGATION_TIMEOUT_SECONDS:g} seconds" in failure.message


async def test_self_signed_certificate_is_a_tls_error(
    pool: BrowserPool, axe_script: AxeScript, tmp_path: Path
) -> None:
    # Given an HTTPS site whose certificate nobody vouches for
    with SiteServer(shop_routes(), tls=self_signed_tls(tmp_path)) as site:
        # When the page is audited
        failure = await failure_of(pool, axe_script, site.url("/"))

    # Then the browser refused it as a certificate problem
    assert failure.code == "tls_error"
    assert "certificate" in failure.message
    assert failure.detail is not None
    assert failure.detail.startswith("ERR_CERT_")


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (Reply(403, CHALLENGE_PAGE), "bot_blocked"),
        (Reply(401, CHALLENGE_PAGE), "bot_blocked"),
        (Reply(503, CHALLENGE_PAGE, headers={"cf-mitigated": "challenge"}), "bot_blocked"),
        (Reply(404, "<!doctype html><title>Not found</title>"), "http_error"),
        (Reply(500, "<!doctype html><title>Oops</title>"), "http_error"),
    ],
    ids=["403-challenge", "401-challenge", "503-challenge-header", "404", "500"],
)
async def test_error_status_of_the_page_maps_to_its_code(
    pool: BrowserPool, axe_script: AxeScript, reply: Reply, code: str
) -> None:
    # Given a site that answers the page with an error status
    with SiteServer({"/": reply}) as site:
        # When the page is audited
        failure = await failure_of(pool, axe_script, site.url("/"))

    # Then the code says whether bots are refused or the page is broken
    assert failure.code == code
    assert failure.detail == f"HTTP {reply.status}"


HEADLESS_PROBE = CLEAN_PAGE.replace(
    "<p>We bake bread.</p>",
    """<p>We bake bread.</p>
<script>
  const brands = navigator.userAgentData ? navigator.userAgentData.brands.map(b => b.brand).join(",") : "";
  document.write('<img alt="" src="/probe?webdriver=' + navigator.webdriver
    + '&brands=' + encodeURIComponent(brands) + '">');
</script>""",
)


def refuse_headless(handler: _Handler) -> Reply:
    user_agent = handler.headers.get("User-Agent", "")
    hints = handler.headers.get("Sec-CH-UA", "")
    if "HeadlessChrome" in user_agent or "Headless" in hints:
        return Reply(403, CHALLENGE_PAGE)
    return Reply(body=HEADLESS_PROBE)


async def test_site_that_refuses_headless_browsers_gets_an_ordinary_chrome_visit(
    pool: BrowserPool, axe_script: AxeScript
) -> None:
    # Given a site that answers 403 to anything announcing itself as headless
    routes = {"/": refuse_headless, "/probe": Reply(204), "/favicon.ico": Reply(204)}
    with SiteServer(routes) as site:
        browser = await pool.browser()
        plain = await browser.new_context()
        try:
            plain_page = await plain.new_page()
            plain_response = await plain_page.goto(site.url("/"))
        finally:
            await plain.close()
        assert plain_response is not None
        assert plain_response.status == 403, "the site must really refuse headless Chromium"

        # When the page is audited
        audited = await audit(pool, axe_script, site.url("/"))

        # Then the scan saw the page, and the page saw no automation
        assert audited.axe.violations is not None
        [probe] = site.seen("/probe")
        assert "webdriver=false" in probe.query
        assert "Headless" not in probe.query
        assert "Chromium" in probe.query


async def test_screenshot_of_a_very_long_page_stops_at_the_height_limit(
    pool: BrowserPool, axe_script: AxeScript
) -> None:
    # Given a page far taller than the screenshot limit
    long_page = CLEAN_PAGE.replace(
        "<p>We bake bread.</p>", '<div style="height: 9000px">We bake bread.</div>'
    )
    with SiteServer({"/": Reply(body=long_page), "/favicon.ico": Reply(204)}) as site:
        # When it is audited
        audited = await audit(pool, axe_script, site.url("/"))

    # Then the screenshot is full-page wide and exactly as tall as the limit allows
    png = audited.screenshot_png
    assert png is not None
    assert png.startswith(b"\x89PNG")
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (DEVICES["desktop"].width, SCREENSHOT_MAX_HEIGHT)
