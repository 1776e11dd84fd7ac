"""The browser half of a scan: open the page like a visitor would, run axe, take the screenshot.

Lighthouse loads the page again in its own Chrome at the same time; this half is what
gives the scan its final URL, its accessibility violations and its picture.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from scout.audit.axe import AxeScript, run_axe, summarize_axe
from scout.audit.devices import DeviceProfile
from scout.audit.result import AxeSummary
from scout.audit.scan_errors import (
    ScanFailure,
    failure_from_browser_error,
    failure_from_response,
    timeout_failure,
)
from scout.audit.screenshot import full_page_screenshot
from scout.observability import logger

if TYPE_CHECKING:
    from playwright.async_api import Page

    from scout.audit.browser_pool import BrowserPool
    from scout.audit.egress_gate import EgressGate

_REDIRECTED_TO_BLOCKED = (
    "The page sent scout on to an address it does not visit (a private or internal network)."
)
# Failures that the egress guard causes when it refuses a redirect or a subresource host.
_EGRESS_SHAPED = frozenset({"connection_failed", "bot_blocked", "http_error"})


@dataclass(frozen=True)
class PageAuditOptions:
    navigation_timeout_seconds: float
    screenshot_max_height: int
    # networkidle never arrives on pages that poll or stream, so it is waited for briefly.
    network_idle_seconds: float = 10.0


@dataclass
class PageProgress:
    """What the browser half got done, kept even when a later step fails."""

    final_url: str | None = None
    navigation_ms: int | None = None
    axe_ms: int | None = None


@dataclass(frozen=True)
class PageAudit:
    axe: AxeSummary
    axe_json: bytes
    screenshot_png: bytes | None


async def audit_page(
    url: str,
    profile: DeviceProfile,
    *,
    pool: BrowserPool,
    egress: EgressGate,
    axe_script: AxeScript,
    options: PageAuditOptions,
    progress: PageProgress,
) -> PageAudit:
    """Raises ScanFailure with the scan error code (docs/audit.md) when the page cannot be audited."""
    try:
        browser = await pool.browser()
    except Exception as exc:
        raise ScanFailure(
            "browser_crashed",
            "The browser for the scan could not start. Trying again usually works.",
            detail=str(exc),
        ) from exc
    version = browser.version
    try:
        async with pool.context(**profile.context_options(version)) as context:
            page = await context.new_page()
            # Playwright's User-Agent override leaves the client-hint brands to Chromium;
            # this one states them, so headers and navigator.userAgentData agree with the UA.
            cdp = await context.new_cdp_session(page)
            await cdp.send("Emulation.setUserAgentOverride", profile.user_agent_override(version))
            await _navigate(page, url, egress=egress, options=options, progress=progress)
            with contextlib.suppress(PlaywrightError):
                await page.wait_for_load_state("networkidle", timeout=options.network_idle_seconds * 1000)
            started = time.perf_counter()
            axe_json = await _run_axe(page, axe_script, options)
            progress.axe_ms = _elapsed_ms(started)
            progress.final_url = page.url
            screenshot = await _screenshot(page, options)
            return PageAudit(axe=summarize_axe(axe_json), axe_json=axe_json, screenshot_png=screenshot)
    except ScanFailure:
        raise
    except PlaywrightError as exc:
        raise failure_from_browser_error(exc) from exc


async def _navigate(
    page: Page, url: str, *, egress: EgressGate, options: PageAuditOptions, progress: PageProgress
) -> None:
    blocked_before = egress.blocked_count()
    started = time.perf_counter()
    try:
        response = await page.goto(url, wait_until="load", timeout=options.navigation_timeout_seconds * 1000)
    except PlaywrightTimeoutError as exc:
        if not await _document_arrived(page):
            raise timeout_failure(options.navigation_timeout_seconds, detail=str(exc)) from exc
        # The document is there but a subresource holds `load` back (a slow ad, a stalled
        # font); Lighthouse carries on in that case too, and so does the scan.
        logger.info("load did not fire in time; auditing the page as it is", extra={"url": url})
        response = None
    except PlaywrightError as exc:
        raise _blame_egress(failure_from_browser_error(exc), egress, blocked_before) from exc
    progress.navigation_ms = _elapsed_ms(started)
    progress.final_url = page.url
    if response is not None:
        failure = failure_from_response(response.status, response.headers)
        if failure is not None:
            raise _blame_egress(failure, egress, blocked_before)


async def _document_arrived(page: Page) -> bool:
    if page.url in ("", "about:blank"):
        return False
    try:
        state = await page.evaluate("() => document.readyState")
    except PlaywrightError:
        return False
    return state in ("interactive", "complete")


def _blame_egress(failure: ScanFailure, egress: EgressGate, blocked_before: int) -> ScanFailure:
    """A refused connection during this navigation was the guard's doing, not the site's."""
    if failure.code in _EGRESS_SHAPED and egress.blocked_count() > blocked_before:
        return ScanFailure("blocked_target", _REDIRECTED_TO_BLOCKED, detail=failure.detail)
    return failure


async def _run_axe(page: Page, axe_script: AxeScript, options: PageAuditOptions) -> bytes:
    for attempt in (1, 2):
        try:
            return await run_axe(page, axe_script)
        except TimeoutError as exc:
            raise ScanFailure(
                "axe_failed", "The accessibility check (axe) took too long on this page."
            ) from exc
        except PlaywrightError as exc:
            if attempt == 1 and "context was destroyed" in str(exc):
                # The page navigated on its own (a script redirect) while axe was injected.
                with contextlib.suppress(PlaywrightError):
                    await page.wait_for_load_state("load", timeout=options.navigation_timeout_seconds * 1000)
                continue
            failure = failure_from_browser_error(exc)
            if failure.code == "internal_error":
                failure = ScanFailure("axe_failed", detail=failure.detail)
            raise failure from exc
    raise ScanFailure("axe_failed", detail="the page kept navigating while axe ran")


async def _screenshot(page: Page, options: PageAuditOptions) -> bytes | None:
    """The screenshot is an artifact, not a finding: failing to take it fails nothing."""
    try:
        return await full_page_screenshot(page, max_height=options.screenshot_max_height)
    except PlaywrightError as exc:
        logger.warning("screenshot failed", extra={"error": str(exc)})
        return None


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
