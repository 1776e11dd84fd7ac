"""The browser pool's lifecycle with a real Chromium: reuse, isolation, crash, idle shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from scout.audit.browser_pool import BrowserPool
from tests.integration.audit.conftest import CHROMIUM
from tests.integration.audit.processes import alive, browser_pids_using_tmpdir, kill, playwright_driver_pids
from tests.integration.audit.servers import CLEAN_PAGE, Reply, SiteServer
from tests.support.egress_gates import UncheckedEgress

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]


@pytest_asyncio.fixture(loop_scope="session")
async def pool() -> AsyncIterator[BrowserPool]:
    browsers = BrowserPool(chromium_path=CHROMIUM, idle_seconds=600, egress=UncheckedEgress())
    yield browsers
    await browsers.aclose()


@pytest.fixture
def site() -> Iterator[SiteServer]:
    routes = {
        "/": Reply(body=CLEAN_PAGE),
        "/login": Reply(body=CLEAN_PAGE, headers={"Set-Cookie": "session=abc123; Path=/"}),
        "/sw.js": Reply(body="self.addEventListener('fetch', () => {});", content_type="text/javascript"),
        "/favicon.ico": Reply(204),
    }
    with SiteServer(routes) as server:
        yield server


async def until(condition: object, *, attempts: int = 100) -> bool:
    """Poll ``condition()`` every 0.1 s, at most ``attempts`` times."""
    for _ in range(attempts):
        if condition():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.1)
    return False


async def test_scans_share_one_browser_but_not_cookies(pool: BrowserPool, site: SiteServer) -> None:
    # Given a scan that logged in (the site set a cookie)
    async with pool.context() as first:
        page = await first.new_page()
        await page.goto(site.url("/login"))

    # When the next scan opens the site
    async with pool.context() as second:
        page = await second.new_page()
        await page.goto(site.url("/"))

    # Then it ran in the same browser, and the site did not recognise it
    assert pool.launches == 1
    [visit] = site.seen("/")
    assert visit.cookie == ""


async def test_pages_cannot_register_service_workers(pool: BrowserPool, site: SiteServer) -> None:
    # Given a scan's page (on a secure origin, where service workers are allowed)
    async with pool.context() as context:
        page = await context.new_page()
        await page.goto(site.url("/"))

        # When the page tries to install a service worker
        registrations = await page.evaluate(
            """async () => {
                await navigator.serviceWorker.register("/sw.js").catch(() => null);
                return (await navigator.serviceWorker.getRegistrations()).length;
            }"""
        )

    # Then none was installed: a worker would outlive the page and fetch on its own
    assert registrations == 0
    assert site.seen("/sw.js") == []


async def test_killed_browser_is_relaunched_and_its_temporary_files_removed(
    pool: BrowserPool, site: SiteServer
) -> None:
    # Given a pool whose browser has served a scan
    async with pool.context() as context:
        await (await context.new_page()).goto(site.url("/"))
    old_tmp_dir = pool.tmp_dir
    assert old_tmp_dir is not None
    [old_pid] = browser_pids_using_tmpdir(old_tmp_dir)

    # When the browser process dies between scans
    kill(old_pid)
    assert await until(lambda: not alive(old_pid))

    # Then the next scan gets a new browser, and the dead one's files are gone
    async with pool.context() as context:
        response = await (await context.new_page()).goto(site.url("/"))
        assert response is not None
        assert response.ok
    assert pool.launches == 2
    assert not old_tmp_dir.exists()


async def test_pool_recovers_when_playwright_driver_dies(pool: BrowserPool, site: SiteServer) -> None:
    # Given a pool whose browser has served a scan, driven by its own Playwright driver
    drivers_before = playwright_driver_pids()
    async with pool.context() as context:
        await (await context.new_page()).goto(site.url("/"))
    [driver] = playwright_driver_pids() - drivers_before

    # When the driver process dies (Playwright still reports the browser as connected)
    kill(driver)
    assert await until(lambda: not alive(driver))

    # Then the next scan gets a new driver and browser, and works
    async with pool.context() as context:
        response = await (await context.new_page()).goto(site.url("/"))
        assert response is not None
        assert response.ok
    assert pool.launches == 2


async def test_idle_browser_is_shut_down_and_relaunched_on_demand(site: SiteServer) -> None:
    # Given a pool with a one-second idle limit that served a scan
    pool = BrowserPool(chromium_path=CHROMIUM, idle_seconds=1, egress=UncheckedEgress())
    try:
        async with pool.context() as context:
            await (await context.new_page()).goto(site.url("/"))
        tmp_dir = pool.tmp_dir
        assert tmp_dir is not None
        [pid] = browser_pids_using_tmpdir(tmp_dir)

        # When no scan comes for longer than that
        # Then the browser is shut down and its files removed
        assert await until(lambda: pool.tmp_dir is None and not alive(pid))
        assert await until(lambda: not tmp_dir.exists())

        # And the next scan launches a new one
        async with pool.context() as context:
            await (await context.new_page()).goto(site.url("/"))
        assert pool.launches == 2
    finally:
        await pool.aclose()
