"""GET /jobs, GET /jobs/{job_id}, GET /companies: public reading over real Postgres."""

from __future__ import annotations

import base64
import json
from types import ModuleType
from typing import Any

import psycopg
import pytest

from tests.integration.jobs_api.support import add_source, posting, request, sync

Sql = psycopg.Connection[dict[str, Any]]


def forged_cursor(**position: str) -> str:
    text = json.dumps({"list_name": "jobs", "id": "00000000-0000-0000-0000-000000000000", **position})
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def titles(body: dict[str, Any]) -> list[str]:
    return [item["title"] for item in body["items"]]


def test_jobs_are_listed_newest_first_with_their_source_and_company(jobs_api: ModuleType, sql: Sql) -> None:
    # Given a source with three postings, published an hour apart
    source_id = add_source(sql, company="Acme Robotics")
    sync(sql, source_id, [posting(1), posting(3), posting(2)])
    # When the feed is read
    status, body = request(jobs_api, "GET", "/jobs")
    # Then it lists them newest first, each with the posting fields and scout's own
    assert status == 200
    assert titles(body) == ["Software Engineer 3", "Software Engineer 2", "Software Engineer 1"]
    assert body["next_cursor"] is None
    job = body["items"][0]
    assert job["source_id"] == source_id
    assert job["company"] == "Acme Robotics"
    assert job["ats"] == "greenhouse"
    assert job["external_id"] == "job-3"
    assert job["posted_at"] == "2026-01-05T12:00:00Z"
    assert job["archived_at"] is None
    assert job["first_seen_at"].endswith("Z")
    assert {"id", "last_seen_at", "description_html", "salary_period", "locations"} <= set(job)


def test_keyset_cursor_walks_every_posting_exactly_once(jobs_api: ModuleType, sql: Sql) -> None:
    # Given 45 postings, some sharing a publication time (ties are broken by id)
    source_id = add_source(sql)
    sync(
        sql,
        source_id,
        [posting(n, posted_at="2026-01-05T09:00:00Z" if n % 3 == 0 else None) for n in range(45)],
    )
    # When the feed is read 20 at a time, following next_cursor
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = {"limit": "20"} | ({"cursor": cursor} if cursor else {})
        status, body = request(jobs_api, "GET", "/jobs", query=query)
        assert status == 200
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    # Then every posting came exactly once, over three pages
    assert pages == 3
    assert len(seen) == 45
    assert len(set(seen)) == 45


def test_full_text_search_finds_words_in_title_and_description(jobs_api: ModuleType, sql: Sql) -> None:
    source_id = add_source(sql)
    sync(
        sql,
        source_id,
        [
            posting(1, title="Backend Engineer", description_text="Python and Postgres every day."),
            posting(2, title="Data Analyst", description_text="Dashboards, SQL and spreadsheets."),
            posting(3, title="Python Developer", description_text="Web services."),
        ],
    )
    status, body = request(jobs_api, "GET", "/jobs", query={"q": "python"})
    assert status == 200
    assert titles(body) == ["Python Developer", "Backend Engineer"]
    # Words are stemmed and combined as a web search would: "analysts" finds "Analyst"
    assert titles(request(jobs_api, "GET", "/jobs", query={"q": "analysts -python"})[1]) == ["Data Analyst"]


def test_a_search_of_stop_words_only_filters_nothing(jobs_api: ModuleType, sql: Sql) -> None:
    sync(sql, add_source(sql), [posting(1), posting(2)])
    status, body = request(jobs_api, "GET", "/jobs", query={"q": "the"})
    assert status == 200
    assert len(body["items"]) == 2


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"company": "GLOBEX"}, ["Globex Remote Contract"]),
        ({"ats": "lever"}, ["Globex Remote Contract"]),
        ({"location": "lisb"}, ["Hybrid Lisbon"]),
        ({"location": "Porto"}, ["Hybrid Lisbon"]),  # any of a posting's locations
        ({"workplace_type": "remote"}, ["Globex Remote Contract"]),
        ({"remote": "true"}, ["Globex Remote Contract"]),
        ({"remote": "false"}, ["Hybrid Lisbon", "Onsite Berlin"]),
        ({"department": "sales"}, ["Hybrid Lisbon"]),
        ({"employment_type": "contract"}, ["Globex Remote Contract"]),
        ({"posted_after": "2026-01-05T10:30:00Z"}, ["Globex Remote Contract", "Hybrid Lisbon"]),
        ({"salary_min": "90000"}, ["Hybrid Lisbon"]),
        ({"salary_min": "60000"}, ["Hybrid Lisbon", "Onsite Berlin"]),
        ({"company": "acme", "location": "berlin"}, ["Onsite Berlin"]),
    ],
)
def test_each_filter_narrows_the_feed(
    jobs_api: ModuleType, sql: Sql, query: dict[str, str], expected: list[str]
) -> None:
    # Given postings of two companies that differ in every filtered field
    acme = add_source(sql, company="Acme")
    globex = add_source(sql, ats="lever", board="globex", company="Globex")
    sync(
        sql,
        acme,
        [
            posting(1, title="Onsite Berlin", salary_min=50000, salary_max=70000, salary_currency="EUR"),
            posting(
                2,
                title="Hybrid Lisbon",
                location="Lisbon, Portugal",
                locations=["Lisbon, Portugal", "Porto, Portugal"],
                workplace_type="hybrid",
                department="Sales",
                salary_min=95000,
                salary_currency="EUR",
            ),
        ],
    )
    sync(
        sql,
        globex,
        [
            posting(
                3,
                ats="lever",
                board="globex",
                title="Globex Remote Contract",
                location="Remote",
                locations=["Remote"],
                workplace_type="remote",
                remote=True,
                employment_type="contract",
            )
        ],
    )
    # When the feed is filtered
    status, body = request(jobs_api, "GET", "/jobs", query=query)
    # Then only the matching postings remain, newest first
    assert status == 200, body
    assert titles(body) == expected


def test_archived_postings_are_left_out_unless_asked_for(jobs_api: ModuleType, sql: Sql) -> None:
    # Given a posting the ATS stopped listing two complete runs ago (so it is archived)
    source_id = add_source(sql)
    sync(sql, source_id, [posting(n) for n in range(1, 6)])
    for _ in range(2):
        sync(sql, source_id, [posting(n) for n in range(2, 6)])
    # Then the default feed hides it and include_archived shows it, with its archived_at
    assert "Software Engineer 1" not in titles(request(jobs_api, "GET", "/jobs")[1])
    _, body = request(jobs_api, "GET", "/jobs", query={"include_archived": "true"})
    archived = [item for item in body["items"] if item["title"] == "Software Engineer 1"]
    assert len(archived) == 1
    assert archived[0]["archived_at"] is not None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "101"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"remote": "maybe"}, "remote"),
        ({"posted_after": "last tuesday"}, "posted_after"),
        ({"posted_after": "2026-01-05T10:00:00"}, "posted_after"),  # no zone: ambiguous
        ({"workplace_type": "moon"}, "workplace_type"),
        ({"employment_type": "forever"}, "employment_type"),
        ({"ats": "taleo"}, "ats"),
        ({"salary_min": "-1"}, "salary_min"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"posted_after": "2026-01-05T10:00:00+20:00"}, "posted_after"),  # Postgres takes ±15:59
        ({"posted_after": "0001-01-01T00:00:00+01:00"}, "posted_after"),  # before year 1 in UTC
        ({"posted_after": "9999-12-31T23:59:59-01:00"}, "posted_after"),  # after 9999 in UTC
        # A well-formed cursor whose position has an offset Postgres would refuse
        ({"cursor": forged_cursor(sort_at="2026-01-01T00:00:00+20:00")}, "cursor"),
    ],
)
def test_bad_query_values_get_400_naming_the_field(
    jobs_api: ModuleType, sql: Sql, query: dict[str, str], field: str
) -> None:
    status, body = request(jobs_api, "GET", "/jobs", query=query)
    assert status == 400
    assert body["error"]["code"] in ("invalid_request", "invalid_cursor")
    assert body["error"]["message"].startswith(f"{field}:")


def test_a_cursor_from_another_list_is_refused(jobs_api: ModuleType, sql: Sql) -> None:
    # Given a /companies cursor
    for company in ("Acme", "Globex"):
        add_source(sql, board=company.lower(), company=company)
    _, companies = request(jobs_api, "GET", "/companies", query={"limit": "1"})
    assert companies["next_cursor"] is not None
    # When it is passed to /jobs, then it is a 400 naming the cursor
    status, body = request(jobs_api, "GET", "/jobs", query={"cursor": companies["next_cursor"]})
    assert status == 400
    assert body["error"]["code"] == "invalid_cursor"


def test_one_job_by_id_archived_or_not(jobs_api: ModuleType, sql: Sql) -> None:
    source_id = add_source(sql)
    sync(sql, source_id, [posting(1, salary_min=80000, salary_max=100000, salary_currency="USD")])
    job_id = request(jobs_api, "GET", "/jobs")[1]["items"][0]["id"]
    status, job = request(jobs_api, "GET", f"/jobs/{job_id}")
    assert status == 200
    assert job["id"] == job_id
    assert (job["salary_min"], job["salary_max"], job["salary_currency"]) == (80000, 100000, "USD")


def test_unknown_job_is_a_json_404_and_a_malformed_id_a_400(jobs_api: ModuleType, sql: Sql) -> None:
    status, body = request(jobs_api, "GET", "/jobs/6f1c2b7e-0000-4000-8000-000000000000")
    assert status == 404
    assert body["error"]["code"] == "not_found"
    status, body = request(jobs_api, "GET", "/jobs/42")
    assert status == 400
    assert body["error"]["message"].startswith("job_id:")


def test_companies_are_listed_by_name_with_active_counts(jobs_api: ModuleType, sql: Sql) -> None:
    # Given Acme on two boards and Globex on one, with one Acme posting archived
    acme_greenhouse = add_source(sql, company="Acme")
    acme_lever = add_source(sql, ats="lever", board="acme", company="Acme")
    globex = add_source(sql, ats="ashby", board="globex", company="Globex")
    sync(sql, acme_greenhouse, [posting(n) for n in range(1, 11)])
    for _ in range(2):
        sync(sql, acme_greenhouse, [posting(n) for n in range(1, 10)])
    sync(sql, acme_lever, [posting(n, ats="lever") for n in range(10, 15)])
    sync(sql, globex, [posting(20, ats="ashby")])
    # When companies are listed one per page
    status, first = request(jobs_api, "GET", "/companies", query={"limit": "1"})
    _, second = request(jobs_api, "GET", "/companies", query={"limit": "1", "cursor": first["next_cursor"]})
    # Then each carries its active postings over all its boards
    assert status == 200
    assert first["items"] == [{"company": "Acme", "active_postings": 14, "sources": 2}]
    assert second["items"] == [{"company": "Globex", "active_postings": 1, "sources": 1}]
    assert second["next_cursor"] is None


def test_public_routes_need_no_token(jobs_api: ModuleType, sql: Sql) -> None:
    for path in ("/jobs", "/companies"):
        assert request(jobs_api, "GET", path)[0] == 200


def salaried_feed(sql: Sql) -> None:
    """Three postings paying about the same in a year, stated per hour, month and year."""
    source_id = add_source(sql)
    sync(
        sql,
        source_id,
        [
            posting(
                1,
                title="Hourly USD",
                salary_min=40,
                salary_max=48,
                salary_currency="USD",
                salary_period="hour",
            ),
            posting(
                2,
                title="Monthly EUR",
                salary_min=6000,
                salary_max=7000,
                salary_currency="EUR",
                salary_period="month",
            ),
            posting(
                3,
                title="Yearly EUR",
                salary_min=70000,
                salary_max=80000,
                salary_currency="EUR",
                salary_period="year",
            ),
        ],
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # 48 x 2080 = 99,840 a year; 7,000 x 12 = 84,000; 80,000
        ({"salary_min": "90000"}, ["Hourly USD"]),
        ({"salary_min": "82000"}, ["Hourly USD", "Monthly EUR"]),
        ({"salary_min": "50000"}, ["Hourly USD", "Monthly EUR", "Yearly EUR"]),
        ({"salary_currency": "eur"}, ["Monthly EUR", "Yearly EUR"]),
        ({"salary_currency": "EUR", "salary_min": "82000"}, ["Monthly EUR"]),
    ],
)
def test_salary_filters_compare_annualised_ranges_in_one_currency(
    jobs_api: ModuleType, sql: Sql, query: dict[str, str], expected: list[str]
) -> None:
    # Given postings paying per hour, per month and per year
    salaried_feed(sql)
    # When the feed is filtered by a yearly amount and/or a currency
    status, body = request(jobs_api, "GET", "/jobs", query=query)
    # Then hourly and monthly pay count as their yearly equivalent
    assert status == 200, body
    assert sorted(titles(body)) == sorted(expected)


def test_every_job_carries_its_salary_annualised(jobs_api: ModuleType, sql: Sql) -> None:
    salaried_feed(sql)
    _, body = request(jobs_api, "GET", "/jobs", query={"salary_currency": "USD"})
    job = body["items"][0]
    assert (job["salary_min"], job["salary_period"]) == (40, "hour")
    assert (job["salary_year_min"], job["salary_year_max"]) == (83200, 99840)


def test_a_currency_that_is_not_three_letters_is_a_400(jobs_api: ModuleType, sql: Sql) -> None:
    status, body = request(jobs_api, "GET", "/jobs", query={"salary_currency": "euro"})
    assert status == 400
    assert "salary_currency" in body["error"]["message"]
