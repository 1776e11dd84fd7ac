"""axe-core, from the pinned npm package, run inside the scanned page.

axe is injected into every frame (a cross-origin iframe can only be checked by an axe
living inside it; the top frame's axe collects their results over postMessage) and run
once from the top. Only violations are collected: passes and inapplicable rules are most of
axe's work and none of what the result shows.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scout.audit.result import IMPACTS, AxeCounts, AxeNode, AxeSummary, AxeViolation
from scout.audit.scan_errors import ScanFailure

if TYPE_CHECKING:
    from playwright.async_api import Page

# The result carries a sample of each violation's nodes; the axe.json artifact has them all.
MAX_NODES_PER_VIOLATION = 50
MAX_HTML_CHARS = 1000

AXE_TIMEOUT_SECONDS = 60.0
FRAME_INJECT_TIMEOUT_SECONDS = 10.0

_RUN_AXE = """
async () => {
  const results = await window.axe.run(document, {
    resultTypes: ['violations'],
    iframes: true,
    frameWaitTime: 5000,
  });
  return JSON.stringify(results);
}
"""


class AxeScript:
    """axe.min.js, read once per process (about half a megabyte)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._source: str | None = None

    async def source(self) -> str:
        if self._source is None:
            self._source = await asyncio.to_thread(self._path.read_text, encoding="utf-8")
        return self._source


async def run_axe(page: Page, script: AxeScript) -> bytes:
    """Run axe on the loaded page; the raw results as JSON bytes (the axe.json artifact)."""
    source = await script.source()
    await asyncio.wait_for(page.main_frame.evaluate(source), FRAME_INJECT_TIMEOUT_SECONDS)
    for frame in page.frames:
        if frame is page.main_frame:
            continue
        try:
            await asyncio.wait_for(frame.evaluate(source), FRAME_INJECT_TIMEOUT_SECONDS)
        except Exception:  # noqa: S112 - a frame that went away or never loaded is not checked
            continue
    raw = await asyncio.wait_for(page.evaluate(_RUN_AXE), AXE_TIMEOUT_SECONDS)
    if not isinstance(raw, str):
        raise ScanFailure("axe_failed", detail=f"axe returned {type(raw).__name__}")
    return raw.encode()


def summarize_axe(raw: bytes) -> AxeSummary:
    """The violations and counts of the scan result (docs/audit.md) from axe's raw results."""
    try:
        results = json.loads(raw)
        violations = [_violation(item) for item in results["violations"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise ScanFailure("axe_failed", detail=f"unreadable axe results: {exc}") from exc
    counts = dict.fromkeys(IMPACTS, 0)
    for violation in violations:
        if violation.impact is not None:
            counts[violation.impact] += 1
    return AxeSummary(violations=violations, counts=AxeCounts(**counts))


def _violation(item: dict[str, Any]) -> AxeViolation:
    impact = item.get("impact")
    return AxeViolation(
        id=str(item["id"]),
        impact=impact if impact in IMPACTS else None,
        help=str(item.get("help", "")),
        nodes=[
            AxeNode(target=node.get("target", []), html=str(node.get("html", ""))[:MAX_HTML_CHARS])
            for node in item.get("nodes", [])[:MAX_NODES_PER_VIOLATION]
        ],
    )
