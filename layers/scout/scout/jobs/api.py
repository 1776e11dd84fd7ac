"""The jobs function's HTTP API: every route it serves, each calling one domain function.

``/jobs`` and ``/companies`` are public reading; ``/sources`` and below are for admin tokens.
Routes are synchronous (Powertools calls them so) and run their domain coroutine on the
process's one event loop, where the pooled store and HTTP clients live.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from scout import deps, runtime
from scout.api_docs import docs_router
from scout.auth import Strategy
from scout.deferred_import import deferred_module
from scout.http_api import BEARER, ScoutRoutes, error_answers, health_router
from scout.jobs import catalog
from scout.jobs.models import (
    CURSOR_DESCRIPTION,
    MAX_PAGE_SIZE,
    CompanyPage,
    Job,
    JobPage,
    JobQuery,
    NewSource,
    PollQueued,
    PollRunPage,
    Source,
    SourceChanges,
    SourcePage,
)
from scout.store import Store

if TYPE_CHECKING:
    from scout.jobs import sources
else:
    # The admin routes' domain (board detection and fetching, httpx, the ATS adapters) loads
    # on the first admin request, not at every cold start (bench/cold_start.py).
    sources = deferred_module("scout.jobs.sources")

app = ScoutRoutes(title="scout jobs API")
app.include_router(health_router)
app.include_router(docs_router)

admin_only = [app.requires(Strategy.ADMIN)]

Cursor = Annotated[str | None, Query(max_length=500, description=CURSOR_DESCRIPTION)]
JobId = Annotated[UUID, Path(description="The job's id (from GET /jobs).")]
SourceId = Annotated[UUID, Path(description="The source's id (from GET /sources).")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Page size, at most {MAX_PAGE_SIZE}.")]

ERROR_MEANINGS = {
    401: "No admin bearer token, or not a valid one",
    404: "No such job or source",
    409: "That board is a source already",
    503: "The poll queue did not take the request; try again",
}


def answers(status: int, model: type[Any] | None, description: str, *errors: int) -> dict[int, Any]:
    """A route's OpenAPI responses: its own, and the scout errors it answers with."""
    # No model: an empty content map, or Powertools would document the return annotation.
    content = {"application/json": {"model": model}} if model is not None else {}
    return {
        status: {"description": description, "content": content},
        **error_answers(ERROR_MEANINGS, *errors),
    }


def _store() -> Store:
    return deps.current().store()


# ---- public read ---------------------------------------------------------------------------


@app.get(
    "/jobs",
    summary="Search job postings, by relevance or newest first",
    tags=["jobs"],
    responses=answers(200, JobPage, "A page of jobs; next_cursor continues"),
)
def list_jobs(query: Annotated[JobQuery, Query()]) -> JobPage:
    return runtime.run(catalog.search_jobs(query, store=_store()))


@app.get(
    "/jobs/<job_id>", summary="One job posting", tags=["jobs"], responses=answers(200, Job, "The job", 404)
)
def get_job(job_id: JobId) -> Job:
    return runtime.run(catalog.get_job(job_id, store=_store()))


@app.get(
    "/companies",
    summary="Companies scout follows, with their active postings",
    tags=["jobs"],
    responses=answers(200, CompanyPage, "A page of companies by name"),
)
def list_companies(cursor: Cursor = None, limit: Limit = 50) -> CompanyPage:
    return runtime.run(catalog.list_companies(cursor, limit, store=_store()))


# ---- admin: sources ------------------------------------------------------------------------


@app.get(
    "/sources",
    summary="Job boards scout polls",
    tags=["sources"],
    security=BEARER,
    middlewares=admin_only,
    responses=answers(200, SourcePage, "A page of sources by company", 401),
)
def list_sources(cursor: Cursor = None, limit: Limit = 50) -> SourcePage:
    return runtime.run(sources.list_sources(cursor, limit, store=_store()))


@app.post(
    "/sources",
    summary="Add a job board: a careers URL (recognised, then fetched once) or an ATS kind and board",
    tags=["sources"],
    security=BEARER,
    middlewares=admin_only,
    status_code=201,
    responses=answers(201, Source, "The new source, with what its trial fetch found", 401, 409),
)
def add_source(new: NewSource) -> Source:
    return runtime.run(sources.add_source(new, store=_store(), settings=deps.settings()))


@app.patch(
    "/sources/<source_id>",
    summary="Rename, switch on or off, or reschedule a source",
    tags=["sources"],
    security=BEARER,
    middlewares=admin_only,
    responses=answers(200, Source, "The source as changed", 401, 404),
)
def change_source(source_id: SourceId, changes: SourceChanges) -> Source:
    return runtime.run(sources.change_source(source_id, changes, store=_store()))


@app.delete(
    "/sources/<source_id>",
    summary="Stop polling a source and forget its postings and runs",
    tags=["sources"],
    security=BEARER,
    middlewares=admin_only,
    status_code=204,
    responses=answers(204, None, "Removed", 401, 404),
)
def remove_source(source_id: SourceId) -> Response[None]:
    runtime.run(sources.remove_source(source_id, store=_store()))
    return Response(status_code=204)


@app.post(
    "/sources/<source_id>/poll",
    summary="Poll a source now (queued)",
    tags=["sources"],
    security=BEARER,
    middlewares=admin_only,
    status_code=202,
    responses=answers(
        202, PollQueued, "Queued; the run appears in GET /sources/{source_id}/runs", 401, 404, 503
    ),
)
def poll_source_now(source_id: SourceId) -> PollQueued:
    parts = deps.current()
    return runtime.run(
        sources.queue_poll(source_id, store=parts.store(), queue=parts.poll_queue(), settings=parts.settings)
    )


@app.get(
    "/sources/<source_id>/runs",
    summary="A source's poll runs, newest first",
    tags=["sources"],
    security=BEARER,
    middlewares=admin_only,
    responses=answers(200, PollRunPage, "A page of runs", 401, 404),
)
def list_source_runs(source_id: SourceId, cursor: Cursor = None, limit: Limit = 20) -> PollRunPage:
    return runtime.run(sources.list_runs(source_id, cursor, limit, store=_store()))
