"""A full-page PNG of the scanned page, cut at a maximum height.

Infinite-scroll and very long pages would otherwise make screenshots of tens of megabytes
that take seconds to encode, so the capture stops at ``max_height`` CSS pixels from the top.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.async_api import Page

SCREENSHOT_TIMEOUT_MS = 30_000

_PAGE_HEIGHT = """
() => Math.max(
  document.documentElement ? document.documentElement.scrollHeight : 0,
  document.body ? document.body.scrollHeight : 0,
)
"""


async def full_page_screenshot(page: Page, *, max_height: int) -> bytes:
    height = int(await page.evaluate(_PAGE_HEIGHT) or 0)
    viewport = page.viewport_size
    if height <= max_height or viewport is None:
        return await page.screenshot(full_page=True, type="png", timeout=SCREENSHOT_TIMEOUT_MS)
    return await page.screenshot(
        full_page=True,
        type="png",
        timeout=SCREENSHOT_TIMEOUT_MS,
        clip={"x": 0, "y": 0, "width": viewport["width"], "height": max_height},
    )
