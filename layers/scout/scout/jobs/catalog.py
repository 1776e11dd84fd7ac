"""The public read side of jobs: searching postings, one posting, the companies followed."""

from __future__ import annotations

from uuid import UUID

from scout.cursors import CompaniesPosition, JobsPosition, decode_cursor
from scout.jobs.models import CompanyPage, Job, JobPage, JobQuery
from scout.jobs.store import JobStore
from scout.store import Store


async def search_jobs(query: JobQuery, *, store: Store) -> JobPage:
    """One page of postings matching ``query``, newest first."""
    return await JobStore(store).list_jobs(query, decode_cursor(JobsPosition, query.cursor))


async def get_job(job_id: UUID, *, store: Store) -> Job:
    """One posting, archived or not; ``NotFound`` when scout never had it."""
    return await JobStore(store).get_job(job_id)


async def list_companies(cursor: str | None, limit: int, *, store: Store) -> CompanyPage:
    """Companies by name, each with its active postings."""
    return await JobStore(store).list_companies(decode_cursor(CompaniesPosition, cursor), limit)
