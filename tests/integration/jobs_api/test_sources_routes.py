"""The admin /sources routes: adding boards (detect + trial fetch), changing, removing, polling."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import psycopg
import pytest

from tests.integration.jobs_api.support import FakeAtsServer, PollQueues, add_source, posting, request, sync
from tests.support.ats_payloads import greenhouse_job, jsonld_job_page, lever_posting

Sql = psycopg.Connection[dict[str, Any]]


def allow_loopback_pages(env: pytest.MonkeyPatch, rewire: Callable[[], None]) -> None:
    """Careers pages on 127.0.0.1 (the fake ATS) pass the egress guard from now on."""
    env.setenv("SCOUT_EGRESS_ALLOW", "127.0.0.1")
    rewire()


def test_a_careers_url_is_recognised_fetched_once_and_kept_with_its_jobs(
    jobs_api: ModuleType, fake_ats: FakeAtsServer, admin_token: str
) -> None:
    # Given a Greenhouse board with three postings
    fake_ats.fake.greenhouse["acme-robotics"] = [greenhouse_job(n, "acme-robotics") for n in range(3)]
    # When an admin adds it by its careers URL
    status, source = request(
        jobs_api,
        "POST",
        "/sources",
        token=admin_token,
        body={"url": "https://boards.greenhouse.io/acme-robotics/jobs/4000001"},
    )
    # Then it is recognised, named after the board, and its postings are listed at once
    assert status == 201, source
    assert (source["ats"], source["board"], source["company"]) == (
        "greenhouse",
        "acme-robotics",
        "Acme Robotics",
    )
    assert source["active_postings"] == 3
    assert source["last_polled_at"] is not None
    assert source["last_error"] is None
    _, jobs = request(jobs_api, "GET", "/jobs", query={"company": "acme robotics"})
    assert len(jobs["items"]) == 3
    _, runs = request(jobs_api, "GET", f"/sources/{source['id']}/runs", token=admin_token)
    assert [(run["status"], run["fetched"], run["upserted"]) for run in runs["items"]] == [
        ("succeeded", 3, 3)
    ]


def test_an_explicit_kind_and_board_is_added_with_the_given_company(
    jobs_api: ModuleType, fake_ats: FakeAtsServer, admin_token: str
) -> None:
    fake_ats.fake.lever["globex"] = [lever_posting(n, "globex") for n in range(2)]
    status, source = request(
        jobs_api,
        "POST",
        "/sources",
        token=admin_token,
        body={"ats": "lever", "board": "globex", "company": "Globex Corporation"},
    )
    assert status == 201, source
    assert source["company"] == "Globex Corporation"
    assert source["active_postings"] == 2


def test_a_board_whose_trial_fetch_fails_is_not_added(
    jobs_api: ModuleType, fake_ats: FakeAtsServer, admin_token: str
) -> None:
    # Given a board the ATS does not know (404)
    # When an admin adds it
    status, body = request(
        jobs_api, "POST", "/sources", token=admin_token, body={"ats": "greenhouse", "board": "nobody"}
    )
    # Then it is refused, saying why, and nothing is stored
    assert status == 400
    assert body["error"]["code"] == "trial_fetch_failed"
    assert "ats_not_found" in body["error"]["message"]
    assert request(jobs_api, "GET", "/sources", token=admin_token)[1]["items"] == []


def test_a_page_without_postings_is_not_added(
    jobs_api: ModuleType,
    fake_ats: FakeAtsServer,
    jobs_env: pytest.MonkeyPatch,
    admin_token: str,
    rewire: Callable[[], None],
) -> None:
    # Given a careers page with no JobPosting (reachable only because loopback is allowed here)
    fake_ats.fake.pages["/careers"] = "<html><body><h1>Join us</h1><p>No openings.</p></body></html>"
    allow_loopback_pages(jobs_env, rewire)
    # When an admin adds it
    status, body = request(
        jobs_api, "POST", "/sources", token=admin_token, body={"url": f"{fake_ats.url}/careers"}
    )
    # Then the trial fetch found nothing it could trust, and the source is refused
    assert status == 400
    assert body["error"]["code"] == "trial_fetch_failed"
    assert "JobPosting" in body["error"]["message"]
    assert request(jobs_api, "GET", "/sources", token=admin_token)[1]["items"] == []


def test_a_page_with_json_ld_postings_is_added_as_a_jsonld_source(
    jobs_api: ModuleType,
    fake_ats: FakeAtsServer,
    jobs_env: pytest.MonkeyPatch,
    admin_token: str,
    rewire: Callable[[], None],
) -> None:
    fake_ats.fake.pages["/careers/nurse"] = jsonld_job_page(1)
    allow_loopback_pages(jobs_env, rewire)
    status, source = request(
        jobs_api,
        "POST",
        "/sources",
        token=admin_token,
        body={"url": f"{fake_ats.url}/careers/nurse", "company": "Acme Health"},
    )
    assert status == 201, source
    assert (source["ats"], source["company"], source["active_postings"]) == ("jsonld", "Acme Health", 1)


def test_a_careers_url_on_a_private_address_is_refused_before_any_connection(
    jobs_api: ModuleType, fake_ats: FakeAtsServer, admin_token: str
) -> None:
    status, body = request(
        jobs_api, "POST", "/sources", token=admin_token, body={"url": "http://10.0.0.1/careers"}
    )
    assert status == 400
    assert body["error"]["code"] == "blocked_target"


def test_the_same_board_cannot_be_added_twice(
    jobs_api: ModuleType, fake_ats: FakeAtsServer, admin_token: str
) -> None:
    fake_ats.fake.greenhouse["acme"] = [greenhouse_job(1)]
    new = {"ats": "greenhouse", "board": "acme"}
    assert request(jobs_api, "POST", "/sources", token=admin_token, body=new)[0] == 201
    status, body = request(jobs_api, "POST", "/sources", token=admin_token, body=new)
    assert status == 409
    assert body["error"]["code"] == "conflict"


@pytest.mark.parametrize(
    "body",
    [
        {"url": "https://boards.greenhouse.io/acme", "ats": "greenhouse", "board": "acme"},
        {"ats": "greenhouse"},
        {"board": "acme"},
        {},
        {"ats": "taleo", "board": "acme"},
        {"url": "https://boards.greenhouse.io/acme", "company": "   "},
        {"url": "https://boards.greenhouse.io/acme", "color": "blue"},
    ],
)
def test_a_malformed_new_source_gets_400(
    jobs_api: ModuleType, fake_ats: FakeAtsServer, admin_token: str, body: dict[str, Any]
) -> None:
    status, answer = request(jobs_api, "POST", "/sources", token=admin_token, body=body)
    assert status == 400
    assert answer["error"]["code"] == "invalid_request"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/sources"),
        ("POST", "/sources"),
        ("PATCH", "/sources/6f1c2b7e-0000-4000-8000-000000000000"),
        ("DELETE", "/sources/6f1c2b7e-0000-4000-8000-000000000000"),
        ("POST", "/sources/6f1c2b7e-0000-4000-8000-000000000000/poll"),
        ("GET", "/sources/6f1c2b7e-0000-4000-8000-000000000000/runs"),
    ],
)
def test_source_routes_refuse_anyone_but_an_admin(
    jobs_api: ModuleType, sql: Sql, user_token: str, method: str, path: str
) -> None:
    # (a valid body: Powertools validates a request before route middlewares check the token)
    body = {"PATCH": {"enabled": False}, "POST": {"ats": "greenhouse", "board": "acme"}}.get(method)
    assert request(jobs_api, method, path, body=body)[0] == 401
    # A valid user token is the wrong kind here: 403, which says so
    status, answer = request(jobs_api, method, path, body=body, token=user_token)
    assert status == 403
    assert answer["error"]["message"] == "This route takes admin tokens, not user tokens."


def test_sources_are_listed_by_company_a_page_at_a_time(
    jobs_api: ModuleType, sql: Sql, admin_token: str
) -> None:
    for company in ("Initech", "Acme", "Globex"):
        add_source(sql, board=company.lower(), company=company)
    _, first = request(jobs_api, "GET", "/sources", token=admin_token, query={"limit": "2"})
    _, rest = request(
        jobs_api, "GET", "/sources", token=admin_token, query={"limit": "2", "cursor": first["next_cursor"]}
    )
    assert [source["company"] for source in first["items"]] == ["Acme", "Globex"]
    assert [source["company"] for source in rest["items"]] == ["Initech"]
    assert rest["next_cursor"] is None


def test_a_source_can_be_renamed_switched_off_and_rescheduled(
    jobs_api: ModuleType, sql: Sql, admin_token: str
) -> None:
    source_id = add_source(sql)
    status, source = request(
        jobs_api,
        "PATCH",
        f"/sources/{source_id}",
        token=admin_token,
        body={"company": "Acme Inc", "enabled": False, "poll_interval_minutes": 60},
    )
    assert status == 200
    assert (source["company"], source["enabled"], source["poll_interval_minutes"]) == ("Acme Inc", False, 60)
    assert source["board"] == "acme"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"poll_interval_minutes": 1}, "poll_interval_minutes"),
        ({"board": "other"}, "board"),
        ({}, "body"),
        ({"enabled": "sometimes"}, "enabled"),
    ],
)
def test_a_bad_change_gets_400_naming_the_field(
    jobs_api: ModuleType, sql: Sql, admin_token: str, body: dict[str, Any], field: str
) -> None:
    source_id = add_source(sql)
    status, answer = request(jobs_api, "PATCH", f"/sources/{source_id}", token=admin_token, body=body)
    assert status == 400
    assert answer["error"]["message"].startswith(f"{field}:")


def test_changing_or_removing_an_unknown_source_is_a_404(
    jobs_api: ModuleType, sql: Sql, admin_token: str
) -> None:
    path = "/sources/6f1c2b7e-0000-4000-8000-000000000000"
    assert request(jobs_api, "PATCH", path, token=admin_token, body={"enabled": True})[0] == 404
    status, body = request(jobs_api, "DELETE", path, token=admin_token)
    assert status == 404
    assert body["error"]["code"] == "not_found"


def test_removing_a_source_removes_its_jobs(jobs_api: ModuleType, sql: Sql, admin_token: str) -> None:
    source_id = add_source(sql)
    sync(sql, source_id, [posting(1), posting(2)])
    response_status, _ = request(jobs_api, "DELETE", f"/sources/{source_id}", token=admin_token)
    assert response_status == 204
    assert request(jobs_api, "GET", "/jobs")[1]["items"] == []
    assert request(jobs_api, "DELETE", f"/sources/{source_id}", token=admin_token)[0] == 404


def test_poll_now_queues_the_source_with_its_board(
    jobs_api: ModuleType, sql: Sql, admin_token: str, poll_queue: PollQueues
) -> None:
    source_id = add_source(sql, ats="ashby", board="globex", company="Globex")
    status, body = request(jobs_api, "POST", f"/sources/{source_id}/poll", token=admin_token)
    assert status == 202
    assert body == {"source_id": source_id, "status": "queued"}
    messages = poll_queue.receive_all()
    [queued] = [json.loads(message["Body"]) for message in messages]
    # The message carries the run the request started: it shows as running until polled
    run_id = queued.pop("run_id")
    assert queued == {"source_id": source_id, "ats": "ashby", "board": "globex"}
    _, runs = request(jobs_api, "GET", f"/sources/{source_id}/runs", token=admin_token)
    assert [(run["id"], run["status"], run["finished_at"]) for run in runs["items"]] == [
        (run_id, "running", None)
    ]


def test_poll_now_of_an_unknown_source_is_a_404_and_queues_nothing(
    jobs_api: ModuleType, sql: Sql, admin_token: str, poll_queue: PollQueues
) -> None:
    status, _ = request(
        jobs_api, "POST", "/sources/6f1c2b7e-0000-4000-8000-000000000000/poll", token=admin_token
    )
    assert status == 404
    assert poll_queue.receive_all() == []


def test_runs_are_listed_newest_first_with_their_guard(
    jobs_api: ModuleType, sql: Sql, admin_token: str
) -> None:
    # Given a source polled three times, the last fetch incomplete
    source_id = add_source(sql)
    sync(sql, source_id, [posting(1), posting(2)])
    sync(sql, source_id, [posting(1), posting(2), posting(3)])
    sync(sql, source_id, [posting(1)], complete=False)
    # When its runs are read two at a time
    status, first = request(
        jobs_api, "GET", f"/sources/{source_id}/runs", token=admin_token, query={"limit": "2"}
    )
    _, rest = request(
        jobs_api,
        "GET",
        f"/sources/{source_id}/runs",
        token=admin_token,
        query={"limit": "2", "cursor": first["next_cursor"]},
    )
    # Then the newest comes first, each with its counts and the guard that held archiving back
    assert status == 200
    runs = first["items"] + rest["items"]
    assert [(run["fetched"], run["upserted"], run["complete"], run["guard"]) for run in runs] == [
        (1, 0, False, "incomplete_fetch"),
        (3, 1, True, None),
        (2, 2, True, None),
    ]
    assert rest["next_cursor"] is None
    assert set(runs[0]) == {
        "id", "source_id", "status", "complete", "fetched", "upserted", "archived", "relisted",
        "guard", "error", "started_at", "finished_at",
    }  # fmt: skip


def test_runs_of_an_unknown_source_is_a_404(jobs_api: ModuleType, sql: Sql, admin_token: str) -> None:
    status, _ = request(
        jobs_api, "GET", "/sources/6f1c2b7e-0000-4000-8000-000000000000/runs", token=admin_token
    )
    assert status == 404
