"""The jobs SQL functions answer alike through both store adapters (psycopg and PostgREST).

Production calls them through Supabase's PostgREST, tests mostly through psycopg; every
argument kind they take (timestamps, numbers, uuids, jsonb, defaults left out) is used here
through each.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from scout.errors import AtsNotFound
from scout.jobs import catalog, sources
from scout.jobs.models import JobQuery, SourceChanges
from scout.jobs.poll_queue import PollRequest
from scout.jobs.polling import fetch_failed
from scout.store import Store
from tests.integration.jobs_api.support import posting


def trial(*postings: dict[str, object]) -> dict[str, object]:
    return {
        "status": "succeeded",
        "complete": True,
        "postings": list(postings),
        "error": None,
        "started_at": datetime.now(UTC).isoformat(),
    }


async def test_a_source_is_created_with_its_trial_fetch_and_found_by_every_filter(store: Store) -> None:
    # Given a source created with two postings in one call
    source = await store.call(
        "create_source",
        p_ats="greenhouse",
        p_board="acme",
        p_company="Acme",
        p_trial=trial(
            posting(1, salary_min=90000.5, salary_currency="EUR", description_text="Rust and Postgres."),
            posting(2, workplace_type="remote", remote=True, location="Remote"),
        ),
    )
    assert source["active_postings"] == 2
    # When the feed is searched with filters of every argument kind, and paged
    query = JobQuery(
        q="postgres",
        company="ACME",
        ats="greenhouse",
        location="berlin",
        remote=False,
        posted_after=datetime(2026, 1, 1, tzinfo=UTC),
        salary_min=90000,
        limit=1,
    )
    page = await catalog.search_jobs(query, store=store)
    # Then both adapters find the one match, with the salary as stored
    assert [job.title for job in page.items] == ["Software Engineer 1"]
    assert page.items[0].salary_min == 90000.5
    assert page.next_cursor is None
    everything = await catalog.search_jobs(JobQuery(limit=1), store=store)
    rest = await catalog.search_jobs(JobQuery(limit=1, cursor=everything.next_cursor), store=store)
    assert [job.title for job in everything.items + rest.items] == [
        "Software Engineer 2",
        "Software Engineer 1",
    ]
    assert (await catalog.get_job(rest.items[0].id, store=store)).external_id == "job-1"


async def test_sources_are_claimed_leased_changed_and_released(store: Store) -> None:
    created = await store.call("create_source", p_ats="lever", p_board="globex", p_company="Globex")
    claimed = await store.call("claim_due_sources", p_limit=10, p_lease_seconds=600)
    assert claimed == [{"source_id": created["id"], "ats": "lever", "board": "globex"}]
    assert await store.call("claim_due_sources", p_limit=10, p_lease_seconds=600) == []
    assert await store.call("release_sources", p_source_ids=[created["id"]]) == {"released": 1}
    changed = await sources.change_source(
        uuid.UUID(created["id"]), SourceChanges(enabled=False, poll_interval_minutes=30), store=store
    )
    assert (changed.enabled, changed.poll_interval_minutes) == (False, 30)
    assert await store.call("claim_due_sources", p_limit=10, p_lease_seconds=600) == []
    # scout poll --all takes enabled sources only, due or not
    assert await store.call("claim_due_sources", p_limit=10, p_lease_seconds=600, p_due_only=False) == []


async def test_a_failed_poll_is_listed_with_its_error(store: Store) -> None:
    created = await store.call("create_source", p_ats="ashby", p_board="initech", p_company="Initech")
    request = PollRequest.model_validate(
        await store.call("request_source_poll", p_source_id=created["id"], p_lease_seconds=600)
    )
    failure = fetch_failed(AtsNotFound("no such board"), datetime.now(UTC))
    await store.call("sync_source_postings", p_source_id=request.source_id, p_result=failure)
    runs = await sources.list_runs(request.source_id, None, 20, store=store)
    assert [(run.status, run.error and run.error.code) for run in runs.items] == [("failed", "ats_not_found")]
    listed = await sources.list_sources(None, 50, store=store)
    assert listed.items[0].last_error is not None
    assert listed.items[0].consecutive_failures == 1
    await sources.remove_source(request.source_id, store=store)
    assert (await sources.list_sources(None, 50, store=store)).items == []
