"""The scan worker: one queued scan through the engine, its artifacts to S3, its result to the store.

Idempotent on the scan id, because SQS delivers at least once:

- ``claim_scan`` decides in SQL. A finished scan is skipped; a scan another live attempt holds
  is skipped (if that attempt dies, its own message comes back); a scan left running by a
  crashed attempt (its lease ran out) is run again; after ``max_attempts`` it is failed.
- A page that cannot be audited for the site's own reasons (blocked, DNS, TLS, bot wall,
  HTTP error, timeout...) is a finished ``failed`` result, not a retry.
- scout's own failures raise, so SQS delivers the message again: the engine raising, S3 or
  the store failing, or the engine reporting a crashed browser or an internal error while
  attempts remain.
- Artifacts go to ``scans/<id>/<name>``, so a rerun overwrites its own files. The result is
  written only by the attempt that holds the claim.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol
from uuid import UUID

from aws_lambda_powertools.metrics import MetricUnit

from scout import runtime
from scout.audit.artifacts import ArtifactBody, ArtifactStore, StoredArtifact
from scout.audit.budget import Budget
from scout.audit.result import MAX_RUNS, Device, ScanOutcome
from scout.audit.scan_queue import scan_id_of
from scout.audit.store import GaveUp, ScanStore, Skipped, Superseded
from scout.observability import logger, metrics

if TYPE_CHECKING:
    from scout.deps import Dependencies
    from scout.store import Store

# Result error codes that are scout's fault, not the site's: worth another attempt.
RETRIED_ERROR_CODES = frozenset({"browser_crashed", "internal_error"})
# Slack on top of the function's remaining time: Lambda stops an attempt at its timeout, so
# once this lease has run out no attempt can still be writing.
LEASE_MARGIN_SECONDS = 30
# An attempt gives up this long before Lambda would stop it, so that it ends with an error
# (and a retry) on a warm environment instead of being killed mid-write.
DEADLINE_MARGIN_SECONDS = 10


class Scanner(Protocol):
    """The scan engine's interface (``scout.audit.engine.ScanEngine``)."""

    async def scan(
        self, url: str, device: Device, *, runs: int = 1, budget: Budget | None = None
    ) -> ScanOutcome: ...


class ScanAttemptFailed(Exception):
    """This attempt failed for scout's own reasons; the message goes back to the queue."""


@dataclass(frozen=True)
class WorkOutcome:
    """What became of one message (for logs and tests)."""

    outcome: Literal["finished", "skipped", "gave_up", "superseded"]
    status: str | None = None
    reason: str | None = None


def runs_that_fit(*, worker_timeout_seconds: float, lighthouse_timeout_seconds: float) -> int:
    """How many Lighthouse runs one attempt can hold, each allowed its full timeout.

    The runs go one after another (the page audit beside the first), so an attempt needs
    room for all of them before it gives up ahead of the function's timeout; asking for more
    would end in a killed attempt and retries that cannot succeed either.
    """
    usable = worker_timeout_seconds - DEADLINE_MARGIN_SECONDS
    return max(0, min(MAX_RUNS, math.floor(usable / lighthouse_timeout_seconds)))


def lease_seconds(remaining_millis: int) -> int:
    """How long a claim holds: the invocation's remaining time plus a margin."""
    return max(1, math.ceil(remaining_millis / 1000)) + LEASE_MARGIN_SECONDS


async def process_scan(
    scan_id: UUID,
    *,
    store: Store,
    scanner: Scanner,
    artifacts: ArtifactStore,
    lease_seconds: int,
    max_attempts: int,
) -> WorkOutcome:
    scan_store = ScanStore(store)
    claim = await scan_store.claim_scan(scan_id, lease_seconds, max_attempts)
    log_context = {"scan_id": str(scan_id)}
    if isinstance(claim, Skipped):
        logger.info("scan skipped", extra={**log_context, "reason": claim.reason})
        return WorkOutcome("skipped", status=claim.status, reason=claim.reason)
    if isinstance(claim, GaveUp):
        logger.error(
            "scan failed for good after its last attempt",
            extra={**log_context, "outcome": "gave_up", "attempts": claim.attempts},
        )
        return WorkOutcome("gave_up", status="failed")

    scan = claim.scan
    attempt = scan.attempts
    log_context["attempt"] = str(attempt)
    logger.info("scan started", extra={**log_context, "url": scan.url, "device": scan.device})
    outcome = await scanner.scan(
        scan.url,
        scan.device,
        runs=scan.runs,
        budget=Budget.model_validate(scan.budget_limits) if scan.budget_limits else None,
    )
    result = outcome.result
    error_code = getattr(result.error, "code", None)
    if result.status == "failed" and error_code in RETRIED_ERROR_CODES and attempt < max_attempts:
        raise ScanAttemptFailed(f"scan {scan_id} attempt {attempt} failed with {error_code}; retrying")

    stored = await _upload(scan_id, outcome.artifacts, artifacts)
    finished = await scan_store.finish_scan(scan_id, attempt, result.to_json_dict(), stored)
    if isinstance(finished, Superseded):
        logger.warning("a later attempt took over this scan; result dropped", extra=log_context)
        return WorkOutcome("superseded")
    logger.info("scan stored", extra={**log_context, "status": result.status, "error_code": error_code})
    return WorkOutcome("finished", status=result.status)


async def _upload(
    scan_id: UUID, produced: Iterable[ArtifactBody], artifacts: ArtifactStore
) -> list[StoredArtifact]:
    return list(await asyncio.gather(*(artifacts.put(scan_id, artifact) for artifact in produced)))


def handle_scan_message(body: str, *, remaining_millis: int, parts: Dependencies) -> WorkOutcome:
    """Process one message body with the process's parts; raising sends it back to the queue."""
    scan_id = scan_id_of(body)
    deadline = max(1.0, remaining_millis / 1000 - DEADLINE_MARGIN_SECONDS)
    done = runtime.run(process_scan_message(scan_id, parts, lease_seconds(remaining_millis), deadline))
    if done.outcome in ("finished", "gave_up") and done.status is not None:
        metrics.add_metric(name=f"Scans{done.status.capitalize()}", unit=MetricUnit.Count, value=1)
    return done


async def process_scan_message(
    scan_id: UUID, parts: Dependencies, lease: int, deadline_seconds: float
) -> WorkOutcome:
    # Taken inside the loop: the store and the engine's browser are bound to it.
    async with asyncio.timeout(deadline_seconds):
        done = await process_scan(
            scan_id,
            store=parts.store(),
            scanner=parts.scanner(),
            artifacts=parts.artifacts(),
            lease_seconds=lease,
            max_attempts=parts.settings.scan_max_attempts,
        )
    if done.outcome in ("finished", "gave_up") and parts.settings.webhook_queue_url:
        # The scan's end may have closed its monitor's run, whose outbox events the same
        # transaction wrote: relay them now rather than at the scheduler's next tick.
        from scout.monitors.webhook_relay import relay_outbox_logged

        await relay_outbox_logged(parts.store(), parts.webhook_queue(), after="scan")
    return done
