"""A page's history and what changed between two of its scans, for a principal.

Free of HTTP and AWS types, like ``scout.audit.scans``: the store is passed in. A page is
its URL as scout parses it, without the fragment (``scout.egress``), so the URL a caller
types into ``GET /history`` finds the scans created from any spelling of the same page.
Each read is one SQL function, one round trip (``scan_history``, ``scan_diff_pair``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from pydantic import BaseModel, Field

from scout.audit.diffs import compare_scans
from scout.audit.result import BudgetVerdict, Device, ScanStatus
from scout.audit.scans import owner_of, scan_uuid
from scout.audit.store import ScanStore
from scout.auth import Principal, Strategy
from scout.cursors import DEFAULT_PAGE_SIZE, HistoryPosition, check_page_size, decode_cursor, encode_cursor
from scout.egress.urls import parse_target_url
from scout.errors import BadRequest, Conflict, ErrorInfo, NotFound

if TYPE_CHECKING:
    from scout.audit.diffs import ScanDiff
    from scout.store import Store

_FINISHED_WITH_RESULTS = ("succeeded", "partial")


class HistoryItem(BaseModel):
    id: UUID
    url: str = Field(description="The URL as the scan was asked for")
    device: Device
    status: ScanStatus
    runs: int
    error: ErrorInfo | None
    scores: dict[str, int | None] | None = Field(
        description="Lighthouse scores 0-100 (of the median run); null until the scan finished"
    )
    metrics: dict[str, float | None] | None = Field(
        description="Lighthouse metrics, as in a scan's lighthouse.metrics"
    )
    axe_counts: dict[str, int] | None = Field(description="Violated axe rules by impact")
    budget: BudgetVerdict | None
    created_at: datetime
    finished_at: datetime | None


class HistoryPage(BaseModel):
    page_url: str = Field(
        description="The page as scans are grouped: scheme and host lower-cased, no default port, no fragment"
    )
    items: list[HistoryItem]
    next_cursor: str | None


def page_url_of(url: str) -> str:
    """The page ``url`` names; raises InvalidUrl (400) for what no scan could have."""
    target = parse_target_url(url)
    return target.origin + target.target


async def scan_history(
    url: str,
    device: Device,
    principal: Principal,
    *,
    store: Store,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> HistoryPage:
    """The principal's own scans of the page at ``url`` on ``device``, newest first."""
    check_page_size(limit)
    page_url = page_url_of(url)
    after = decode_cursor(HistoryPosition, cursor)
    page = await ScanStore(store).scan_history(owner_of(principal), page_url, device, after, limit)
    following = page.get("next")
    return HistoryPage(
        page_url=page_url,
        items=[HistoryItem.model_validate(item) for item in page["items"]],
        next_cursor=encode_cursor(HistoryPosition, following),
    )


async def diff_scan(
    scan_id: str, principal: Principal, *, store: Store, against: str | None = None, threshold: float
) -> ScanDiff:
    """``scan_id`` against ``against``, or against the previous finished scan of its page and device.

    Both scans belong to one owner: naming another owner's scan is answered as if it did
    not exist, as reading it is. Both must have finished with results to compare.
    """
    if not 0 <= threshold <= 1:
        raise BadRequest("threshold must be between 0 and 1 (a score drop on Lighthouse's 0-1 scale).")
    identifier = scan_uuid(scan_id)
    against_id = scan_uuid(against) if against is not None else None
    if against_id == identifier:
        raise BadRequest("against: a scan compared with itself shows no change; name an earlier scan.")
    scan, earlier = await ScanStore(store).scan_diff_pair(
        identifier, None if principal.strategy is Strategy.SERVICE else owner_of(principal), against_id
    )
    _require_results(scan)
    if earlier is None:
        raise NotFound(
            f"Scan {identifier} has no earlier finished scan of the same page and device to compare with; "
            "pass ?against= to name one.",
            code="no_previous_scan",
        )
    _require_results(earlier)
    return compare_scans(scan, earlier, threshold=threshold)


def _require_results(scan: dict[str, Any]) -> None:
    if scan["status"] not in _FINISHED_WITH_RESULTS:
        state = "has not finished" if scan["status"] in ("queued", "running") else "failed"
        raise Conflict(
            f"Scan {scan['id']} {state}, so it has no results to compare.", code="scan_not_comparable"
        )
