"""The jobs domain's SQL functions as typed methods: models in, models out.

Each method names one function of ``supabase/migrations`` and reads its jsonb answer into the
models the API promises, here and nowhere else. ``tests/integration/store/test_sql_signatures.py``
holds every declaration below against ``pg_proc``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from scout.cursors import (
    CompaniesPosition,
    JobsPosition,
    RankedJobsPosition,
    RunsPosition,
    SourcesPosition,
    encode_cursor,
)
from scout.jobs.models import (
    CompanyPage,
    Job,
    JobPage,
    JobQuery,
    PollRun,
    PollRunPage,
    Source,
    SourceChanges,
    SourcePage,
)
from scout.jobs.poll_queue import PollRequest
from scout.jobs.sync_payload import ResendPostings
from scout.store.functions import BOOLEAN, INTEGER, JSONB, NUMERIC, TEXT, TIMESTAMPTZ, sql_function
from scout.store.functions import UUID as SQL_UUID
from scout.store.protocol import Store

LIST_JOBS = sql_function(
    "list_jobs",
    p_q=TEXT,
    p_company=TEXT,
    p_ats=TEXT,
    p_location=TEXT,
    p_workplace_type=TEXT,
    p_remote=BOOLEAN,
    p_department=TEXT,
    p_employment_type=TEXT,
    p_posted_after=TIMESTAMPTZ,
    p_salary_min=NUMERIC,
    p_include_archived=BOOLEAN,
    p_sort=TEXT,
    p_after_as_of=TIMESTAMPTZ,
    p_after_rank=INTEGER,
    p_after_sort_at=TIMESTAMPTZ,
    p_after_id=SQL_UUID,
    p_limit=INTEGER,
    p_salary_currency=TEXT,
)
GET_JOB = sql_function("get_job", p_job_id=SQL_UUID)
LIST_COMPANIES = sql_function("list_companies", p_after_company=TEXT, p_limit=INTEGER)
CREATE_SOURCE = sql_function("create_source", p_ats=TEXT, p_board=TEXT, p_company=TEXT, p_trial=JSONB)
LIST_SOURCES = sql_function("list_sources", p_after_company=TEXT, p_after_id=SQL_UUID, p_limit=INTEGER)
UPDATE_SOURCE = sql_function("update_source", p_source_id=SQL_UUID, p_changes=JSONB)
DELETE_SOURCE = sql_function("delete_source", p_source_id=SQL_UUID)
LIST_SOURCE_RUNS = sql_function(
    "list_source_runs",
    p_source_id=SQL_UUID,
    p_after_started_at=TIMESTAMPTZ,
    p_after_id=SQL_UUID,
    p_limit=INTEGER,
)
CLAIM_DUE_SOURCES = sql_function(
    "claim_due_sources", p_limit=INTEGER, p_lease_seconds=INTEGER, p_due_only=BOOLEAN
)
RELEASE_SOURCES = sql_function("release_sources", p_source_ids=JSONB)
REQUEST_SOURCE_POLL = sql_function("request_source_poll", p_source_id=SQL_UUID, p_lease_seconds=INTEGER)
SYNC_SOURCE_POSTINGS = sql_function("sync_source_postings", p_source_id=SQL_UUID, p_result=JSONB)
# The claims that record a running run per poll (migration 20261206000200_poll_resilience).
CLAIM_DUE_POLLS = sql_function(
    "claim_due_polls", p_limit=INTEGER, p_lease_seconds=INTEGER, p_due_only=BOOLEAN
)
REQUEST_POLL = sql_function("request_poll", p_source_id=SQL_UUID, p_lease_seconds=INTEGER)
RELEASE_POLLS = sql_function("release_polls", p_run_ids=JSONB)
FINISH_SOURCE_POLL = sql_function(
    "finish_source_poll", p_source_id=SQL_UUID, p_run_id=SQL_UUID, p_result=JSONB, p_retry=BOOLEAN
)
POSTING_FINGERPRINTS = sql_function("posting_fingerprints", p_source_id=SQL_UUID)


def list_jobs_arguments(query: JobQuery, after: JobsPosition | RankedJobsPosition | None) -> dict[str, Any]:
    """``list_jobs``' arguments for ``query`` (the search benchmark explains the same call)."""
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
        "p_salary_currency": query.salary_currency.upper() if query.salary_currency else None,
        "p_include_archived": query.include_archived,
        "p_sort": query.sort,
        "p_after_as_of": ranked.as_of if ranked else None,
        "p_after_rank": ranked.rank if ranked else None,
        "p_after_sort_at": after.sort_at if after else None,
        "p_after_id": after.id if after else None,
        "p_limit": query.limit,
    }


class JobStore:
    """Postings, companies, sources and their poll runs, over any :class:`scout.store.Store`."""

    def __init__(self, store: Store) -> None:
        self._store = store

    # ---- the public read side ----------------------------------------------------------------

    async def list_jobs(self, query: JobQuery, after: JobsPosition | RankedJobsPosition | None) -> JobPage:
        """One page of postings matching ``query`` after ``after``, by relevance or newest first."""
        page = await LIST_JOBS.call(self._store, **list_jobs_arguments(query, after))
        ranked = page["next"] is not None and "rank" in page["next"]
        return JobPage(
            items=[Job.model_validate(item) for item in page["items"]],
            next_cursor=encode_cursor(RankedJobsPosition if ranked else JobsPosition, page["next"]),
        )

    async def get_job(self, job_id: UUID) -> Job:
        """One posting, archived or not; ``NotFound`` when scout never had it."""
        return Job.model_validate(await GET_JOB.call(self._store, p_job_id=job_id))

    async def list_companies(self, after: CompaniesPosition | None, limit: int) -> CompanyPage:
        page = await LIST_COMPANIES.call(
            self._store, p_after_company=after.company if after else None, p_limit=limit
        )
        return CompanyPage.model_validate(
            {"items": page["items"], "next_cursor": encode_cursor(CompaniesPosition, page["next"])}
        )

    # ---- sources -----------------------------------------------------------------------------

    async def create_source(self, ats: str, board: str, company: str, trial: dict[str, Any]) -> Source:
        """A new source with its trial fetch synced; ``Conflict`` when the board is one already."""
        created = await CREATE_SOURCE.call(
            self._store, p_ats=ats, p_board=board, p_company=company, p_trial=trial
        )
        return Source.model_validate(created)

    async def list_sources(self, after: SourcesPosition | None, limit: int) -> SourcePage:
        page = await LIST_SOURCES.call(
            self._store,
            p_after_company=after.company if after else None,
            p_after_id=after.id if after else None,
            p_limit=limit,
        )
        return SourcePage.model_validate(
            {"items": page["items"], "next_cursor": encode_cursor(SourcesPosition, page["next"])}
        )

    async def update_source(self, source_id: UUID, changes: SourceChanges) -> Source:
        updated = await UPDATE_SOURCE.call(self._store, p_source_id=source_id, p_changes=changes.as_changes())
        return Source.model_validate(updated)

    async def delete_source(self, source_id: UUID) -> None:
        """The source goes, and with it its postings and runs; ``NotFound`` when it was not there."""
        await DELETE_SOURCE.call(self._store, p_source_id=source_id)

    async def list_source_runs(self, source_id: UUID, after: RunsPosition | None, limit: int) -> PollRunPage:
        page = await LIST_SOURCE_RUNS.call(
            self._store,
            p_source_id=source_id,
            p_after_started_at=after.started_at if after else None,
            p_after_id=after.id if after else None,
            p_limit=limit,
        )
        return PollRunPage.model_validate(
            {"items": page["items"], "next_cursor": encode_cursor(RunsPosition, page["next"])}
        )

    # ---- polling -----------------------------------------------------------------------------

    async def claim_due_sources(
        self, limit: int, lease_seconds: int, *, due_only: bool = True
    ) -> list[PollRequest]:
        """Lease up to ``limit`` enabled sources (only those due, unless ``due_only`` is false)."""
        claimed = await CLAIM_DUE_SOURCES.call(
            self._store, p_limit=limit, p_lease_seconds=lease_seconds, p_due_only=due_only
        )
        return [PollRequest.model_validate(item) for item in claimed]

    async def request_source_poll(self, source_id: UUID, lease_seconds: int) -> PollRequest:
        """Lease one source, enabled or not, whatever its schedule; ``NotFound`` when it is gone."""
        leased = await REQUEST_SOURCE_POLL.call(
            self._store, p_source_id=source_id, p_lease_seconds=lease_seconds
        )
        return PollRequest.model_validate(leased)

    async def release_sources(self, source_ids: Sequence[UUID]) -> int:
        """Make leased sources due again at once; how many were still leased."""
        released = await RELEASE_SOURCES.call(
            self._store, p_source_ids=[str(source_id) for source_id in source_ids]
        )
        return int(released["released"])

    async def posting_fingerprints(self, source_id: UUID) -> dict[str, dict[str, Any]]:
        """Each posting's list fingerprint and whether its detail is pending (scout.jobs.details)."""
        rows: dict[str, dict[str, Any]] = await POSTING_FINGERPRINTS.call(self._store, p_source_id=source_id)
        return rows or {}

    async def sync_source_postings(self, source_id: UUID, result: dict[str, Any]) -> PollRun | ResendPostings:
        """Record one fetch (see ``scout.jobs.polling``) in one transaction; the run it made.

        ``ResendPostings`` when a posting sent as stored is not (``scout.jobs.sync_payload``):
        then nothing was recorded.
        """
        return synced(await SYNC_SOURCE_POSTINGS.call(self._store, p_source_id=source_id, p_result=result))

    async def claim_due_polls(
        self, limit: int, lease_seconds: int, *, due_only: bool = True
    ) -> list[PollRequest]:
        """``claim_due_sources``, each request carrying the running run its claim recorded."""
        claimed = await CLAIM_DUE_POLLS.call(
            self._store, p_limit=limit, p_lease_seconds=lease_seconds, p_due_only=due_only
        )
        return [PollRequest.model_validate(item) for item in claimed]

    async def request_poll(self, source_id: UUID, lease_seconds: int) -> PollRequest:
        """``request_source_poll``, the request carrying the running run it recorded."""
        leased = await REQUEST_POLL.call(self._store, p_source_id=source_id, p_lease_seconds=lease_seconds)
        return PollRequest.model_validate(leased)

    async def release_polls(self, run_ids: Sequence[UUID | None]) -> int:
        """Withdraw claimed polls the queue did not take: their runs go, their sources are due."""
        released = await RELEASE_POLLS.call(
            self._store, p_run_ids=[str(run_id) for run_id in run_ids if run_id is not None]
        )
        return int(released["released"])

    async def finish_source_poll(
        self, source_id: UUID, run_id: UUID, result: dict[str, Any], *, retry: bool
    ) -> PollRun | ResendPostings:
        """Sync a claimed poll's fetch and settle its running run (closed as lost on a retry).

        ``ResendPostings`` as for ``sync_source_postings``: nothing recorded, the run still running.
        """
        return synced(
            await FINISH_SOURCE_POLL.call(
                self._store, p_source_id=source_id, p_run_id=run_id, p_result=result, p_retry=retry
            )
        )


def synced(answer: dict[str, Any]) -> PollRun | ResendPostings:
    """The sync's answer: the run it recorded, or the postings to send again in full."""
    if "resend" in answer:
        return ResendPostings.model_validate(answer)
    return PollRun.model_validate(answer)
