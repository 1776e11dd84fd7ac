"""The poll schedule: claim the sources that are due and put them on the poll queue."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel

from scout.jobs.poll_queue import PollQueue
from scout.jobs.store import JobStore
from scout.observability import logger, metrics
from scout.store import Store

CLAIM_PAGE_SIZE = 100
# One tick enqueues at most this many sources; the rest stay due for the next tick, so a
# huge backlog cannot run the scheduler past its timeout.
MAX_SOURCES_PER_TICK = 5000


class ScheduleReport(BaseModel):
    claimed: int = 0
    enqueued: int = 0
    released: int = 0


async def enqueue_due_sources(
    *,
    store: Store,
    queue: PollQueue,
    lease_seconds: int,
    page_size: int = CLAIM_PAGE_SIZE,
    max_sources: int = MAX_SOURCES_PER_TICK,
) -> ScheduleReport:
    """Claim due sources a page at a time and enqueue them, until none is due.

    A claim leases its sources and records a running run for each (see ``claim_due_polls``).
    Polls the queue does not take are withdrawn at once, so their sources are due again on
    the next tick rather than after the lease.
    """
    jobs = JobStore(store)
    report = ScheduleReport()
    while report.claimed < max_sources:
        limit = min(page_size, max_sources - report.claimed)
        requests = await jobs.claim_due_polls(limit, lease_seconds)
        if not requests:
            break
        report.claimed += len(requests)
        refused = await queue.send(requests)
        report.enqueued += len(requests) - len(refused)
        if refused:
            report.released += await jobs.release_polls([request.run_id for request in refused])
            logger.warning("the poll queue refused sources; stopping this tick", extra=report.model_dump())
            break
        if len(requests) < limit:
            break
    metrics.add_metric(name="SourcesEnqueued", unit=MetricUnit.Count, value=report.enqueued)
    logger.info("enqueued due sources", extra=report.model_dump())
    return report
