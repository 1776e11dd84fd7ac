"""One Chromium per execution environment, a fresh context for every scan.

Launching Chromium costs about a second and a lot of memory, so the browser is launched on
first use and kept; isolation between scans comes from browser contexts (separate cookies,
storage and cache), one per scan, closed afterwards. The browser is checked before every
reuse and relaunched when it disconnected or crashed, and shut down after
``BROWSER_IDLE_SECONDS`` without a scan. Its temporary files live in a folder of its own,
removed whenever that browser goes away, so /tmp (512 MB on Lambda, shared with everything
else) does not fill up with what dead browsers leave behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scout.audit.chromium_flags import chromium_flags
from scout.audit.egress_gate import EgressGate
from scout.audit.scratch_dirs import ScratchDirs
from scout.observability import logger

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Playwright

    from scout.settings import Settings

_CLOSE_TIMEOUT_SECONDS = 10.0
_PROBE_TIMEOUT_SECONDS = 5.0
# Service workers would outlive the scan's page and fetch on their own; downloads would
# write the site's files to disk.
_CONTEXT_POLICY: dict[str, Any] = {"service_workers": "block", "accept_downloads": False}


class BrowserPool:
    def __init__(
        self,
        *,
        chromium_path: str,
        idle_seconds: float,
        egress: EgressGate,
        launch_timeout_seconds: float = 30.0,
    ) -> None:
        self._chromium_path = chromium_path
        self._idle_seconds = idle_seconds
        self._egress = egress
        self._launch_timeout_seconds = launch_timeout_seconds
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._unresponsive: Browser | None = None
        self._tmp_dir: Path | None = None
        self._scratch = ScratchDirs("scout-chromium-")
        self._lock = asyncio.Lock()
        self._active_contexts = 0
        self._last_used = time.monotonic()
        self._idle_timer: asyncio.TimerHandle | None = None
        self._idle_shutdown: asyncio.Task[None] | None = None
        self.launches = 0
        self.closed = False

    @classmethod
    def from_settings(cls, settings: Settings, *, egress: EgressGate) -> BrowserPool:
        return cls(
            chromium_path=settings.chromium_path, idle_seconds=settings.browser_idle_seconds, egress=egress
        )

    @property
    def tmp_dir(self) -> Path | None:
        """The running browser's temporary folder (its TMPDIR), or None when none runs."""
        return self._tmp_dir

    @property
    def browser_version(self) -> str | None:
        return self._browser.version if self._browser is not None else None

    async def browser(self) -> Browser:
        """The pooled browser, launched or relaunched as needed."""
        if self.closed:
            raise RuntimeError("the browser pool is closed")
        async with self._lock:
            browser = self._browser
            if browser is not None and browser is self._unresponsive:
                await self._retire_browser("unresponsive")
                await self._stop_playwright()
                browser = None
            if browser is not None and self._idle_for() >= self._idle_seconds:
                # A frozen Lambda environment never ran the idle timer; a browser idle this
                # long is retired before it is trusted with a scan.
                await self._retire_browser("idle")
                browser = None
            if browser is None or not browser.is_connected():
                if browser is not None:
                    await self._retire_browser("disconnected")
                browser = await self._launch()
            return browser

    @contextlib.asynccontextmanager
    async def context(self, **options: Any) -> AsyncIterator[BrowserContext]:
        """A fresh browser context for one scan, closed (with everything in it) on exit."""
        browser = await self.browser()
        self._cancel_idle_timer()
        self._active_contexts += 1
        try:
            try:
                context = await browser.new_context(**options, **_CONTEXT_POLICY)
            except Exception:
                # The browser died since the last scan and Playwright has not noticed yet;
                # nothing of this scan has happened, so it may start over on a new browser.
                if await _responsive(browser):
                    raise
                self._unresponsive = browser
                browser = await self.browser()
                context = await browser.new_context(**options, **_CONTEXT_POLICY)
            try:
                yield context
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(context.close(), _CLOSE_TIMEOUT_SECONDS)
        except Exception:
            # Playwright keeps saying is_connected() when its driver process died, so a
            # failed scan asks the browser directly; no answer means start over.
            if not await _responsive(browser):
                self._unresponsive = browser
            raise
        finally:
            self._active_contexts -= 1
            self._last_used = time.monotonic()
            if self._active_contexts == 0:
                self._schedule_idle_timer()

    async def aclose(self) -> None:
        self.closed = True
        self._cancel_idle_timer()
        async with self._lock:
            await self._retire_browser("pool closed")
            await self._stop_playwright()
            await self._scratch.sweep()

    async def _launch(self) -> Browser:
        await self._scratch.sweep()
        tmp_dir = self._scratch.make()
        args = chromium_flags(headless_flag=False, extra=await self._egress.browser_args())
        try:
            try:
                browser = await self._launch_browser(args, tmp_dir)
            except Exception:
                if self._playwright is None:
                    raise
                # Playwright's own driver process may be what died; start a new one, once.
                await self._stop_playwright()
                browser = await self._launch_browser(args, tmp_dir)
        except BaseException:
            await asyncio.shield(self._scratch.remove(tmp_dir))
            raise
        self._browser = browser
        self._tmp_dir = tmp_dir
        self.launches += 1
        self._last_used = time.monotonic()
        logger.info("browser launched", extra={"browser_version": browser.version, "launches": self.launches})
        return browser

    async def _launch_browser(self, args: list[str], tmp_dir: Path) -> Browser:
        from playwright.async_api import async_playwright

        if self._playwright is None:
            self._playwright = await async_playwright().start()
        return await self._playwright.chromium.launch(
            executable_path=self._chromium_path,
            headless=True,
            args=args,
            env={**os.environ, "TMPDIR": str(tmp_dir)},
            timeout=self._launch_timeout_seconds * 1000,
            handle_sigint=False,
            handle_sigterm=False,
            handle_sighup=False,
        )

    async def _stop_playwright(self) -> None:
        playwright, self._playwright = self._playwright, None
        if playwright is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(playwright.stop(), _CLOSE_TIMEOUT_SECONDS)

    async def _retire_browser(self, reason: str) -> None:
        browser, self._browser = self._browser, None
        self._unresponsive = None
        tmp_dir, self._tmp_dir = self._tmp_dir, None
        if browser is not None:
            logger.info("browser retired", extra={"reason": reason})
            with contextlib.suppress(Exception):
                await asyncio.wait_for(browser.close(), _CLOSE_TIMEOUT_SECONDS)
        if tmp_dir is not None:
            await self._scratch.remove(tmp_dir)

    def _idle_for(self) -> float:
        return time.monotonic() - self._last_used if self._active_contexts == 0 else 0.0

    def _schedule_idle_timer(self) -> None:
        self._cancel_idle_timer()
        if not self.closed:
            loop = asyncio.get_running_loop()
            self._idle_timer = loop.call_later(self._idle_seconds, self._on_idle_timer)

    def _cancel_idle_timer(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def _on_idle_timer(self) -> None:
        self._idle_timer = None
        if self._active_contexts == 0 and self._browser is not None:
            self._idle_shutdown = asyncio.get_running_loop().create_task(self._shutdown_when_idle())

    async def _shutdown_when_idle(self) -> None:
        async with self._lock:
            if self._active_contexts == 0 and self._idle_for() >= self._idle_seconds:
                await self._retire_browser("idle")


async def _responsive(browser: Browser) -> bool:
    """Whether the browser answers a round trip through Playwright's driver."""
    try:
        session = await asyncio.wait_for(browser.new_browser_cdp_session(), _PROBE_TIMEOUT_SECONDS)
        await asyncio.wait_for(session.detach(), _PROBE_TIMEOUT_SECONDS)
    except Exception:
        return False
    return True
