"""The scan service: create, read and list scans for a principal (DESIGN §5).

Free of HTTP and AWS types: the store, the queue, the artifact store and the egress policy
are passed in; ``scout.audit.api`` wires the process's defaults.

Ownership: a user token owns its scans as ``user:<sub>``; a service token creates scans as
``service:<sub>``, reads any scan, and lists the scans it created.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from scout.audit.artifacts import ArtifactLink, ArtifactStore, StoredArtifact
from scout.audit.budget import Budget
from scout.audit.result import MAX_RUNS, BudgetVerdict, Device
from scout.audit.scan_queue import ScanQueue
from scout.auth import Principal, Strategy
from scout.cursors import ScansPosition, decode_cursor, encode_cursor
from scout.egress import MAX_URL_LENGTH, EgressPolicy, check_target_url
from scout.errors import BadRequest, Conflict, NotFound, RateLimited, UpstreamFailed
from scout.observability import logger

if TYPE_CHECKING:
    from scout.store import Store

ScanStatus = Literal["queued", "running", "succeeded", "partial", "failed"]

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# Printable ASCII without spaces at the ends: what clients put in a header, bounded.
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?")


# ---- what the API takes and answers ---------------------------------------------------------


class ScanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=1, max_length=MAX_URL_LENGTH, description="The page to audit (http or https)."
    )
    device: Device = Field(default="mobile", description="Emulated device for Lighthouse and axe.")
    runs: int = Field(
        default=1,
        ge=1,
        le=MAX_RUNS,
        description="Lighthouse runs (axe runs once); the result reports the run with the median "
        "performance score and keeps every run's scores and key metrics in lighthouse.runs.",
    )
    budget: Budget | None = Field(
        default=None,
        description="Limits the result is judged against: scores as 0-1 minimums, metrics as maximums "
        "(ms; cumulative-layout-shift unitless), axe counts as maximums by impact. Unknown keys are refused.",
    )


class ErrorDetail(BaseModel):
    code: str
    message: str


class ArtifactOut(BaseModel):
    name: str = Field(description="screenshot.png, lighthouse.html, lighthouse.json or axe.json")
    content_type: str
    size_bytes: int
    url: str = Field(description="A presigned GET link; it stops working at expires_at.")
    expires_at: datetime


class Scan(BaseModel):
    """A scan as POST /scans answers it."""

    id: UUID
    url: str
    device: Device
    status: ScanStatus
    created_at: datetime


class ScanSummary(Scan):
    """A scan in a list: where it stands, without the full result."""

    final_url: str | None
    error: ErrorDetail | None
    started_at: datetime | None
    finished_at: datetime | None


class ScanDetail(ScanSummary):
    """GET /scans/{scan_id}: the scan result of DESIGN §5 and links to the artifacts."""

    # Kept as the engine wrote them when the scan finished: a scan stored by an older engine
    # is still served as it was, never refused for a newer shape.
    lighthouse: dict[str, Any] | None = Field(
        description="Lighthouse summary of the reported run: scores (performance, accessibility, "
        "best-practices, seo; 0-100), metrics, timing, lighthouse_version, final_url, warnings; "
        "median_run (the run reported: its performance score is the median) and runs, every run's "
        "{run, scores (0-100), metrics {first-contentful-paint, largest-contentful-paint, "
        "total-blocking-time, speed-index (ms), cumulative-layout-shift}}; "
        "null when Lighthouse did not finish."
    )
    axe: dict[str, Any] | None = Field(
        description="axe-core: violations [{id, impact, help, nodes: [{target, html}]}] and counts "
        "by impact; null when the page audit did not finish."
    )
    timings: dict[str, Any] | None = Field(description="total_ms, navigation_ms, lighthouse_ms, axe_ms")
    runs: int = Field(default=1, description="Lighthouse runs asked for")
    budget_limits: dict[str, Any] | None = Field(
        default=None, description="The budget the scan was asked to hold (only the limits that were set)"
    )
    budget: BudgetVerdict | None = Field(
        default=None,
        description="The verdict on the budget: passed, and each failure {kind, key, limit, actual}; "
        "null without a budget or when the scan failed",
    )
    artifacts: list[ArtifactOut]


class ScanPage(BaseModel):
    items: list[ScanSummary]
    next_cursor: str | None


@dataclass(frozen=True)
class RateLimit:
    scans: int
    window_seconds: int


@dataclass(frozen=True)
class Created:
    scan: Scan
    replayed: bool


# ---- principals -----------------------------------------------------------------------------


def owner_of(principal: Principal) -> str:
    if principal.strategy not in (Strategy.USER, Strategy.SERVICE):
        raise ValueError(f"{principal.strategy} principals do not own scans")
    return f"{principal.strategy}:{principal.subject}"


def _readable_by(principal: Principal) -> str | None:
    """The owner whose scans ``principal`` may read; None: every scan (services)."""
    return None if principal.strategy is Strategy.SERVICE else owner_of(principal)


# ---- operations -----------------------------------------------------------------------------


async def create_scan(
    request: ScanRequest,
    principal: Principal,
    *,
    idempotency_key: str | None,
    store: Store,
    queue: ScanQueue,
    policy: EgressPolicy,
    rate_limit: RateLimit,
    max_runs: int = MAX_RUNS,
) -> Created:
    """Check the target, record the scan as queued and put it on the queue.

    The same Idempotency-Key with the same request gives the same scan (sent to the queue
    again while it is still queued; the queue drops the duplicate); with another request it
    is refused. Users are rate limited; services are not. More runs than ``max_runs`` (what
    one attempt of the scan worker can hold) are refused.
    """
    key = _checked_idempotency_key(idempotency_key)
    _check_runs(request.runs, max_runs)
    # Raises InvalidUrl, BlockedTarget or DnsFailed: refused before anything is stored.
    target = await check_target_url(request.url, policy)
    limited = principal.strategy is Strategy.USER
    outcome = await store.call(
        "create_scan",
        p_owner=owner_of(principal),
        p_url=target.url,
        p_target_host=target.host,
        p_device=request.device,
        p_idempotency_key=key,
        p_rate_limit=rate_limit.scans if limited else None,
        p_rate_window_seconds=rate_limit.window_seconds,
        p_runs=request.runs,
        p_budget_limits=request.budget.limits() if request.budget else None,
    )
    kind = outcome["outcome"]
    if kind == "rate_limited":
        retry_after = int(outcome["retry_after_seconds"])
        raise RateLimited(
            f"Too many scans: at most {rate_limit.scans} per {_duration(rate_limit.window_seconds)}. "
            f"Try again in {_duration(retry_after)}.",
            retry_after_seconds=retry_after,
        )
    if kind == "idempotency_key_reused":
        raise Conflict(
            f"This Idempotency-Key was already used for scan {outcome['scan_id']} with a different url, "
            "device, runs or budget. Use a new key for a new scan.",
            code="idempotency_key_reused",
        )
    scan = Scan.model_validate(outcome["scan"])
    if kind == "replayed":
        if scan.status == "queued":
            await _send(queue, scan, target.host, store=store, discard_on_failure=False)
        return Created(scan, replayed=True)
    await _send(queue, scan, target.host, store=store, discard_on_failure=True)
    return Created(scan, replayed=False)


async def get_scan(
    scan_id: str, principal: Principal, *, store: Store, artifacts: ArtifactStore
) -> ScanDetail:
    """One scan with fresh artifact links; another owner's scan is reported as missing."""
    identifier = scan_uuid(scan_id)
    row = await store.call("get_scan", p_scan_id=identifier, p_owner=_readable_by(principal))
    stored = [StoredArtifact.from_json(item) for item in row.get("artifacts") or []]
    links = await artifacts.links(stored)
    return ScanDetail.model_validate({**row, "artifacts": [_artifact_out(link) for link in links]})


async def list_scans(
    principal: Principal, *, store: Store, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> ScanPage:
    """The principal's own scans, newest first; ``next_cursor`` continues after this page."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise BadRequest(f"limit must be between 1 and {MAX_PAGE_SIZE}.")
    after = decode_cursor(ScansPosition, cursor)
    page = await store.call(
        "list_scans",
        p_owner=owner_of(principal),
        p_limit=limit,
        p_after_created_at=after.created_at if after else None,
        p_after_id=after.id if after else None,
    )
    following = page.get("next")
    return ScanPage(
        items=[ScanSummary.model_validate(item) for item in page["items"]],
        next_cursor=encode_cursor(
            ScansPosition,
            {"created_at": following["created_at"], "id": following["id"]} if following else None,
        ),
    )


# ---- helpers --------------------------------------------------------------------------------


async def _send(queue: ScanQueue, scan: Scan, host: str, *, store: Store, discard_on_failure: bool) -> None:
    try:
        await queue.send(scan.id, host)
    except Exception as exc:
        logger.exception("could not queue a scan", extra={"scan_id": str(scan.id)})
        if discard_on_failure:
            # The owner never saw this scan: remove it so that a retry starts cleanly and the
            # scan does not sit queued forever. If a worker took it after all, it stays.
            try:
                await store.call("discard_queued_scan", p_scan_id=scan.id)
            except Exception:
                logger.exception("could not discard an unqueued scan", extra={"scan_id": str(scan.id)})
        raise UpstreamFailed(
            "The scan could not be queued. Try again in a moment.", code="queue_unavailable"
        ) from exc


def _check_runs(runs: int, max_runs: int) -> None:
    if runs > max_runs:
        fits = {0: "no run fits", 1: "at most one run fits"}.get(max_runs, f"at most {max_runs} runs fit")
        raise BadRequest(
            f"runs: {runs} Lighthouse runs cannot finish within the scan worker's time limit; "
            f"{fits}. Ask for fewer runs.",
            code="too_many_runs",
        )


def _checked_idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise BadRequest(
            "Idempotency-Key must be 1 to 255 printable ASCII characters (a UUID works well).",
            code="invalid_idempotency_key",
        )
    return key


def scan_uuid(scan_id: str) -> UUID:
    try:
        return UUID(scan_id)
    except ValueError:
        # No scan can have this id: the truthful answer is that there is no such scan.
        raise NotFound(f"No scan {scan_id[:64]!r} here.") from None


def _artifact_out(link: ArtifactLink) -> ArtifactOut:
    return ArtifactOut(
        name=link.name,
        content_type=link.content_type,
        size_bytes=link.size_bytes,
        url=link.url,
        expires_at=link.expires_at,
    )


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    if seconds < 7200:
        return f"{round(seconds / 60)} minutes"
    return f"{round(seconds / 3600)} hours"
