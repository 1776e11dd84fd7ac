"""The audit domain's SQL functions as typed methods: the outcome tags read here, once.

``create_scan``, ``claim_scan`` and ``finish_scan`` answer ``{"outcome": ...}``; each tag
becomes its own type, so callers match on types instead of strings.
``tests/integration/store/test_sql_signatures.py`` holds every declaration below against
``pg_proc``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, BeforeValidator

from scout.audit.artifacts import StoredArtifact
from scout.audit.models import Scan, ScanFindings, ScanPage, ScanSummary
from scout.audit.result import Device
from scout.cursors import HistoryPosition, ScansPosition, encode_cursor
from scout.store.functions import INTEGER, JSONB, TEXT, TIMESTAMPTZ, sql_function
from scout.store.functions import UUID as SQL_UUID
from scout.store.protocol import Store

CREATE_SCAN = sql_function(
    "create_scan",
    p_owner=TEXT,
    p_url=TEXT,
    p_target_host=TEXT,
    p_device=TEXT,
    p_idempotency_key=TEXT,
    p_rate_limit=INTEGER,
    p_rate_window_seconds=INTEGER,
    p_runs=INTEGER,
    p_budget_limits=JSONB,
)
DISCARD_QUEUED_SCAN = sql_function("discard_queued_scan", p_scan_id=SQL_UUID)
GET_SCAN = sql_function("get_scan", p_scan_id=SQL_UUID, p_owner=TEXT)
LIST_SCANS = sql_function(
    "list_scans", p_owner=TEXT, p_limit=INTEGER, p_after_created_at=TIMESTAMPTZ, p_after_id=SQL_UUID
)
CLAIM_SCAN = sql_function("claim_scan", p_scan_id=SQL_UUID, p_lease_seconds=INTEGER, p_max_attempts=INTEGER)
FINISH_SCAN = sql_function(
    "finish_scan", p_scan_id=SQL_UUID, p_attempt=INTEGER, p_result=JSONB, p_artifacts=JSONB
)
SCAN_HISTORY = sql_function(
    "scan_history",
    p_owner=TEXT,
    p_page_url=TEXT,
    p_device=TEXT,
    p_limit=INTEGER,
    p_after_created_at=TIMESTAMPTZ,
    p_after_id=SQL_UUID,
)
SCAN_DIFF_PAIR = sql_function("scan_diff_pair", p_scan_id=SQL_UUID, p_owner=TEXT, p_against=SQL_UUID)


# ---- create_scan ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanCreated:
    scan: Scan


@dataclass(frozen=True)
class ScanReplayed:
    """The Idempotency-Key named a scan of the same request: that scan, as it is now."""

    scan: Scan


@dataclass(frozen=True)
class RateLimitReached:
    retry_after_seconds: int


@dataclass(frozen=True)
class KeyReused:
    """The Idempotency-Key already named scan ``scan_id``, of another url or device."""

    scan_id: UUID


# ---- the worker's claim and finish ---------------------------------------------------------


class ClaimedScan(BaseModel):
    id: UUID
    url: str
    device: Device
    attempts: int
    # Absent from rows written before runs and budgets existed.
    runs: int = 1
    budget_limits: dict[str, Any] | None = None


@dataclass(frozen=True)
class Claimed:
    """This attempt holds the scan (its ``attempts`` counts this one)."""

    scan: ClaimedScan


@dataclass(frozen=True)
class Skipped:
    """Nothing to do: the scan is ``missing``, ``finished`` (with its ``status``) or ``in_progress``."""

    reason: str
    status: str | None = None


@dataclass(frozen=True)
class GaveUp:
    """The scan ran out of attempts and is now failed for good."""

    attempts: int


@dataclass(frozen=True)
class Finished:
    """The result is written and the scan is finished."""


@dataclass(frozen=True)
class Superseded:
    """A later attempt took the scan over; this attempt's result was not written."""


class StoredScan(ScanFindings):
    """A scan row as ``get_scan`` answers it, with its artifacts as uploaded."""

    artifacts: Annotated[list[StoredArtifact], BeforeValidator(lambda stored: stored or [])]


class ScanStore:
    """Scans over any :class:`scout.store.Store`."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def create_scan(
        self,
        *,
        owner: str,
        url: str,
        target_host: str,
        device: Device,
        idempotency_key: str | None,
        rate_limit: int | None,
        rate_window_seconds: int,
        runs: int = 1,
        budget_limits: dict[str, Any] | None = None,
    ) -> ScanCreated | ScanReplayed | RateLimitReached | KeyReused:
        """Record a queued scan, unless the key replays one or the owner is over ``rate_limit``.

        ``rate_limit`` None: not limited.
        """
        answer = await CREATE_SCAN.call(
            self._store,
            p_owner=owner,
            p_url=url,
            p_target_host=target_host,
            p_device=device,
            p_idempotency_key=idempotency_key,
            p_rate_limit=rate_limit,
            p_rate_window_seconds=rate_window_seconds,
            p_runs=runs,
            p_budget_limits=budget_limits,
        )
        outcome = answer["outcome"]
        if outcome == "created":
            return ScanCreated(Scan.model_validate(answer["scan"]))
        if outcome == "replayed":
            return ScanReplayed(Scan.model_validate(answer["scan"]))
        if outcome == "rate_limited":
            return RateLimitReached(int(answer["retry_after_seconds"]))
        if outcome == "idempotency_key_reused":
            return KeyReused(UUID(str(answer["scan_id"])))
        raise _unknown(CREATE_SCAN.name, answer)

    async def discard_queued_scan(self, scan_id: UUID) -> bool:
        """Remove a scan no worker has picked up; whether it was removed."""
        answer = await DISCARD_QUEUED_SCAN.call(self._store, p_scan_id=scan_id)
        return bool(answer["discarded"])

    async def get_scan(self, scan_id: UUID, owner: str | None) -> StoredScan:
        """One scan of ``owner`` (None: of anyone); ``NotFound`` otherwise."""
        return StoredScan.model_validate(await GET_SCAN.call(self._store, p_scan_id=scan_id, p_owner=owner))

    async def list_scans(self, owner: str, after: ScansPosition | None, limit: int) -> ScanPage:
        page = await LIST_SCANS.call(
            self._store,
            p_owner=owner,
            p_limit=limit,
            p_after_created_at=after.created_at if after else None,
            p_after_id=after.id if after else None,
        )
        following = page.get("next")
        return ScanPage(
            items=[ScanSummary.model_validate(item) for item in page["items"]],
            next_cursor=encode_cursor(ScansPosition, following),
        )

    async def claim_scan(
        self, scan_id: UUID, lease_seconds: int, max_attempts: int
    ) -> Claimed | Skipped | GaveUp:
        answer = await CLAIM_SCAN.call(
            self._store, p_scan_id=scan_id, p_lease_seconds=lease_seconds, p_max_attempts=max_attempts
        )
        outcome = answer["outcome"]
        if outcome == "claimed":
            return Claimed(ClaimedScan.model_validate(answer["scan"]))
        if outcome == "skipped":
            return Skipped(str(answer["reason"]), answer.get("status"))
        if outcome == "gave_up":
            return GaveUp(int(answer["attempts"]))
        raise _unknown(CLAIM_SCAN.name, answer)

    async def finish_scan(
        self, scan_id: UUID, attempt: int, result: dict[str, Any], artifacts: list[StoredArtifact]
    ) -> Finished | Superseded:
        """Write attempt ``attempt``'s result, unless a later attempt holds the scan."""
        answer = await FINISH_SCAN.call(
            self._store,
            p_scan_id=scan_id,
            p_attempt=attempt,
            p_result=result,
            p_artifacts=[artifact.to_json() for artifact in artifacts],
        )
        outcome = answer["outcome"]
        if outcome == "finished":
            return Finished()
        if outcome == "superseded":
            return Superseded()
        raise _unknown(FINISH_SCAN.name, answer)

    async def scan_history(
        self, owner: str, page_url: str, device: Device, after: HistoryPosition | None, limit: int
    ) -> dict[str, Any]:
        """One page of ``owner``'s scans of ``page_url`` on ``device``: ``{items, next}``."""
        page: dict[str, Any] = await SCAN_HISTORY.call(
            self._store,
            p_owner=owner,
            p_page_url=page_url,
            p_device=device,
            p_limit=limit,
            p_after_created_at=after.created_at if after else None,
            p_after_id=after.id if after else None,
        )
        return page

    async def scan_diff_pair(
        self, scan_id: UUID, owner: str | None, against: UUID | None
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """A scan and the scan it is compared with (None: no earlier finished one)."""
        pair = await SCAN_DIFF_PAIR.call(self._store, p_scan_id=scan_id, p_owner=owner, p_against=against)
        return pair["scan"], pair["against"]


def _unknown(function: str, answer: Any) -> RuntimeError:
    # The migrations and this module disagree: a deploy mismatch, never the caller's fault.
    return RuntimeError(f"{function} answered an outcome this code does not know: {answer!r:.200}")
