"""The public read side of jobs: searching postings, one posting, the companies followed."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from scout.cursors import CompaniesPosition, JobsPosition, RankedJobsPosition, decode_cursor, encode_cursor
from scout.errors import InvalidCursor
from scout.jobs.models import CompanyPage, Job, JobPage, JobQuery
from scout.store import Store


async def search_jobs(query: JobQuery, *, store: Store) -> JobPage:
    """One page of postings matching ``query``, by relevance or newest first."""
    page = await store.call("list_jobs", **list_jobs_arguments(query))
    return JobPage(
        items=[Job.model_validate(item) for item in page["items"]],
        next_cursor=_jobs_cursor(page["next"]),
    )


def list_jobs_arguments(query: JobQuery) -> dict[str, Any]:
    """``list_jobs``' arguments for ``query`` (the search benchmark explains the same call)."""
    after = _jobs_position(query.cursor)
    ranked = after if isinstance(after, RankedJobsPosition) else None
    return {
        "p_q": query.q,
        "p_company": query.company,
        "p_ats": query.ats,
        "p_location": query.location,
        "p_workplace_type": query.workplace_type,
        "p_remote": query.remote,
        "p_department": query.department,
        "p_employment_type": query.employment_type,
        "p_posted_after": query.posted_after,
        "p_salary_min": query.salary_min,
        "p_include_archived": query.include_archived,
        "p_sort": query.sort,
        "p_after_as_of": ranked.as_of if ranked else None,
        "p_after_rank": ranked.rank if ranked else None,
        "p_after_sort_at": after.sort_at if after else None,
        "p_after_id": after.id if after else None,
        "p_limit": query.limit,
    }


def _jobs_position(cursor: str | None) -> JobsPosition | RankedJobsPosition | None:
    # The list function refuses a cursor of the other order than the one it pages in.
    try:
        return decode_cursor(RankedJobsPosition, cursor)
    except InvalidCursor:
        return decode_cursor(JobsPosition, cursor)


def _jobs_cursor(next_position: dict[str, Any] | None) -> str | None:
    ranked = next_position is not None and "rank" in next_position
    return encode_cursor(RankedJobsPosition if ranked else JobsPosition, next_position)


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
