"""The public read side of jobs: searching postings, one posting, the companies followed."""

from __future__ import annotations

from uuid import UUID

from scout.cursors import CompaniesPosition, JobsPosition, RankedJobsPosition, decode_cursor
from scout.errors import InvalidCursor
from scout.jobs.models import CompanyPage, Job, JobPage, JobQuery
from scout.jobs.store import JobStore
from scout.store import Store


async def search_jobs(query: JobQuery, *, store: Store) -> JobPage:
    """One page of postings matching ``query``, by relevance or newest first."""
    return await JobStore(store).list_jobs(query, jobs_position(query.cursor))


def jobs_position(cursor: str | None) -> JobsPosition | RankedJobsPosition | None:
    # The list function refuses a cursor of the other order than the one it pages in.
    try:
        return decode_cursor(RankedJobsPosition, cursor)
    except InvalidCursor:
        return decode_cursor(JobsPosition, cursor)


async def get_job(job_id: UUID, *, store: Store) -> Job:
    """One posting, archived or not; ``NotFound`` when scout never had it."""
    return await JobStore(store).get_job(job_id)


async def list_companies(cursor: str | None, limit: int, *, store: Store) -> CompanyPage:
    """Companies by name, each with its active postings."""
    return await JobStore(store).list_companies(decode_cursor(CompaniesPosition, cursor), limit)
