"""Every sample event in events/ for the jobs functions, run through its handler."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import psycopg
import pytest

from tests.integration.jobs_api.support import (
    FakeAtsServer,
    FakeLambdaContext,
    PollQueues,
    add_source,
    posting,
    sync,
)
from tests.support.ats_payloads import greenhouse_job
from tests.support.functions import ROOT, load_function

Sql = psycopg.Connection[dict[str, Any]]

# The ids the sample events name.
SOURCE_ID = "5f0c3a52-8d1e-4d7a-9b61-2c4e8f1a7d30"
JOB_ID = "9b2e7c14-3f6a-4e8d-a1c5-7d0f2b9e4a63"

JOBS_API_EVENTS = {
    "jobs_api_list_jobs.json": 200,
    "jobs_api_get_job.json": 200,
    "jobs_api_list_companies.json": 200,
    "jobs_api_list_sources_as_admin.json": 200,
    "jobs_api_add_source_as_admin.json": 201,
    "jobs_api_change_source_as_admin.json": 200,
    "jobs_api_poll_source_as_admin.json": 202,
    "jobs_api_list_source_runs_as_admin.json": 200,
    "jobs_api_remove_source_as_admin.json": 204,
}


def test_every_sample_event_of_a_jobs_route_is_covered_here() -> None:
    on_disk = {
        path.name
        for path in (ROOT / "events").glob("jobs_api_*.json")
        if json.loads(path.read_text())["rawPath"].startswith(("/jobs", "/companies", "/sources"))
    }
    assert on_disk == set(JOBS_API_EVENTS)


@pytest.mark.parametrize(("name", "status"), sorted(JOBS_API_EVENTS.items()))
def test_jobs_api_sample_event_is_served(
    name: str,
    status: int,
    jobs_api: ModuleType,
    fake_ats: FakeAtsServer,
    poll_queue: PollQueues,
    sql: Sql,
    admin_token: str,
) -> None:
    # Given the source and job the sample events name (the source on a board of its own),
    # and the board the add-source sample names, on the fake ATS
    add_source(sql, id=SOURCE_ID, board="sample", company="Sample")
    sync(sql, SOURCE_ID, [posting(1, title="Sample Engineer", location="Berlin")])
    sql.execute("update public.postings set id = %s where source_id = %s", [JOB_ID, SOURCE_ID])
    fake_ats.fake.greenhouse["acme"] = [greenhouse_job(1)]
    function = load_function("jobs_api")  # the handler around the freshly imported jobs_api
    event = json.loads((ROOT / "events" / name).read_text())
    if name.endswith("_as_admin.json"):
        # Sample events hold no token; `scout invoke` adds one for *_as_admin events, as here.
        event["headers"]["authorization"] = f"Bearer {admin_token}"
    # When the function is invoked with it
    response: dict[str, Any] = function.handler(event, FakeLambdaContext("JobsApiFunction"))
    # Then it is answered as the route promises
    assert response["statusCode"] == status, response.get("body")
    if status == 200 and "items" in (body := json.loads(response["body"])):
        assert body["items"], name


def test_scheduler_sample_event_enqueues_due_sources(poll_queue: PollQueues, sql: Sql) -> None:
    add_source(sql)
    scheduler = load_function("poll_scheduler")
    event = json.loads((ROOT / "events" / "poll_scheduler_schedule.json").read_text())
    assert scheduler.handler(event, FakeLambdaContext("PollSchedulerFunction"))["enqueued"] == 1
