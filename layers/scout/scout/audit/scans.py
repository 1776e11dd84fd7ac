"""The scan service: create, read and list scans for a principal (docs/audit.md).

Free of HTTP and AWS types: the store, the queue, the artifact store and the egress policy
are passed in; ``scout.audit.api`` wires the process's defaults.

Ownership: a user token owns its scans as ``user:<sub>``; a service token creates scans as
``service:<sub>``, reads any scan, and lists the scans it created.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from scout.audit.artifacts import ArtifactLink, ArtifactStore
from scout.audit.models import ArtifactOut, Scan, ScanDetail, ScanPage, ScanRequest
from scout.audit.result import MAX_RUNS, ScanStatus
from scout.audit.scan_queue import ScanQueue
from scout.audit.store import KeyReused, RateLimitReached, ScanReplayed, ScanStore
from scout.auth import Principal, Strategy
from scout.cursors import DEFAULT_PAGE_SIZE, ScansPosition, check_page_size, decode_cursor
from scout.egress.policy import EgressPolicy, check_target_url
from scout.errors import BadRequest, Conflict, NotFound, RateLimited, UpstreamFailed
from scout.observability import logger

if TYPE_CHECKING:
    from scout.store import Store

# Printable ASCII without spaces at the ends: what clients put in a header, bounded.
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?")


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
    outcome = await ScanStore(store).create_scan(
        owner=owner_of(principal),
        url=target.url,
        target_host=target.host,
        device=request.device,
        idempotency_key=key,
        rate_limit=rate_limit.scans if limited else None,
        rate_window_seconds=rate_limit.window_seconds,
        runs=request.runs,
        budget_limits=request.budget.limits() if request.budget else None,
    )
    if isinstance(outcome, RateLimitReached):
        retry_after = outcome.retry_after_seconds
        raise RateLimited(
            f"Too many scans: at most {rate_limit.scans} per {_duration(rate_limit.window_seconds)}. "
            f"Try again in {_duration(retry_after)}.",
            retry_after_seconds=retry_after,
        )
    if isinstance(outcome, KeyReused):
        raise Conflict(
            f"This Idempotency-Key was already used for scan {outcome.scan_id} with a different url, "
            "device, runs or budget. Use a new key for a new scan.",
            code="idempotency_key_reused",
        )
    scan = outcome.scan
    if isinstance(outcome, ScanReplayed):
        if scan.status is ScanStatus.QUEUED:
            await _send(queue, scan, target.host, store=store, discard_on_failure=False)
        return Created(scan, replayed=True)
    await _send(queue, scan, target.host, store=store, discard_on_failure=True)
    return Created(scan, replayed=False)


async def get_scan(
    scan_id: str, principal: Principal, *, store: Store, artifacts: ArtifactStore
) -> ScanDetail:
    """One scan with fresh artifact links; another owner's scan is reported as missing."""
    stored = await ScanStore(store).get_scan(scan_uuid(scan_id), _readable_by(principal))
    links = await artifacts.links(stored.artifacts)
    return ScanDetail.model_validate(
        {**stored.model_dump(exclude={"artifacts"}), "artifacts": [_artifact_out(link) for link in links]}
    )


async def list_scans(
    principal: Principal, *, store: Store, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> ScanPage:
    """The principal's own scans, newest first; ``next_cursor`` continues after this page."""
    check_page_size(limit)
    return await ScanStore(store).list_scans(owner_of(principal), decode_cursor(ScansPosition, cursor), limit)


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
                await ScanStore(store).discard_queued_scan(scan.id)
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
