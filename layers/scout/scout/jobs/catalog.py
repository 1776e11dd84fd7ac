"""The public read side of jobs: searching postings, one posting, the companies followed."""

from __future__ import annotations

from uuid import UUID

from scout.cursors import CompaniesPosition, JobsPosition, decode_cursor, encode_cursor
from scout.jobs.models import CompanyPage, Job, JobPage, JobQuery
from scout.store import Store


async def search_jobs(query: JobQuery, *, store: Store) -> JobPage:
    """One page of postings matching ``query``, newest first."""
    after = decode_cursor(JobsPosition, query.cursor)
    page = await store.call(
        "list_jobs",
        p_q=query.q,
        p_company=query.company,
        p_ats=query.ats,
        p_location=query.location,
        p_workplace_type=query.workplace_type,
        p_remote=query.remote,
        p_department=query.department,
        p_employment_type=query.employment_type,
        p_posted_after=query.posted_after,
        p_salary_min=query.salary_min,
        p_salary_currency=query.salary_currency.upper() if query.salary_currency else None,
        p_include_archived=query.include_archived,
        p_after_sort_at=after.sort_at if after else None,
        p_after_id=after.id if after else None,
        p_limit=query.limit,
    )
    return JobPage(
        items=[Job.model_validate(item) for item in page["items"]],
        next_cursor=encode_cursor(JobsPosition, page["next"]),
    )


async def get_job(job_id: UUID, *, store: Store) -> Job:
    """One posting, archived or not; ``NotFound`` when scout never had it."""
    return Job.model_validate(await store.call("get_job", p_job_id=job_id))


async def list_companies(cursor: str | None, limit: int, *, store: Store) -> CompanyPage:
    """Companies by name, each with its active postings."""
    after = decode_cursor(CompaniesPosition, cursor)
    page = await store.call("list_companies", p_after_company=after.company if after else None, p_limit=limit)
    return CompanyPage.model_validate(
        {"items": page["items"], "next_cursor": encode_cursor(CompaniesPosition, page["next"])}
    )
