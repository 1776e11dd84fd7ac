"""GET /jobs as a search: relevance order and its cursor, short queries, folded filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import psycopg
import pytest

from tests.integration.jobs_api.support import add_source, posting, request, sync

Sql = psycopg.Connection[dict[str, Any]]


def titles(body: dict[str, Any]) -> list[str]:
    return [item["title"] for item in body["items"]]


def days_ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def walk(api: ModuleType, query: dict[str, str]) -> tuple[list[dict[str, Any]], int]:
    """Every item of a listing, following next_cursor; and how many pages it took."""
    items: list[dict[str, Any]] = []
    cursor = None
    for pages in range(1, 1000):
        status, body = request(api, "GET", "/jobs", query=query | ({"cursor": cursor} if cursor else {}))
        assert status == 200, body
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages
    raise AssertionError("the listing never ended")


def test_a_month_old_title_match_outranks_a_fresh_description_mention(jobs_api: ModuleType, sql: Sql) -> None:
    # Given a fresh posting that mentions Kotlin in its description, and a month-old Kotlin title
    source_id = add_source(sql)
    sync(
        sql,
        source_id,
        [
            posting(
                1,
                title="Product Designer",
                description_text="You will pair with Kotlin engineers.",
                posted_at=days_ago(0.1),
            ),
            posting(2, title="Kotlin Developer", description_text="Build our apps.", posted_at=days_ago(30)),
        ],
    )
    # When the feed is searched for kotlin (relevance is the default with q)
    status, body = request(jobs_api, "GET", "/jobs", query={"q": "kotlin"})
    # Then the title match comes first; newest first puts the description mention first
    assert status == 200
    assert titles(body) == ["Kotlin Developer", "Product Designer"]
    newest = request(jobs_api, "GET", "/jobs", query={"q": "kotlin", "sort": "newest"})[1]
    assert titles(newest) == ["Product Designer", "Kotlin Developer"]


def test_relevance_tiers_title_then_department_then_location_then_description_then_stale(
    jobs_api: ModuleType, sql: Sql
) -> None:
    # Given "rust" in a different field of each posting, the freshest where it matters least
    source_id = add_source(sql)
    sync(
        sql,
        source_id,
        [
            posting(1, title="Rust Engineer", posted_at=days_ago(90)),  # stale
            posting(2, title="Support Engineer", description_text="Some Rust.", posted_at=days_ago(1)),
            posting(
                3,
                title="Site Engineer",
                location="Rust, Austria",
                locations=["Rust, Austria"],
                posted_at=days_ago(2),
            ),
            posting(4, title="Platform Engineer", department="Rust Platform", posted_at=days_ago(3)),
            posting(5, title="Rust Developer", posted_at=days_ago(4)),
        ],
    )
    # When searched for rust
    body = request(jobs_api, "GET", "/jobs", query={"q": "rust"})[1]
    # Then the field that matched decides first, freshness second
    assert titles(body) == [
        "Rust Developer",
        "Platform Engineer",
        "Site Engineer",
        "Support Engineer",
        "Rust Engineer",
    ]


def test_relevance_cursor_walks_a_thousand_postings_without_gaps_or_repeats(
    jobs_api: ModuleType, sql: Sql
) -> None:
    # Given 1,000 matches spread over every tier, many sharing a publication time (ties)
    source_id = add_source(sql)
    fields = [
        {"title": "Golang Engineer"},
        {"title": "Engineer", "department": "Golang"},
        {"title": "Engineer", "location": "Golang Valley", "locations": ["Golang Valley"]},
        {"title": "Engineer", "description_text": "We write Golang."},
    ]
    postings = []
    for n in range(1000):
        stale = n % 7 == 0
        age_days = 70 + n % 5 if stale else (n % 10) / 4  # ten distinct fresh times: ties galore
        postings.append(posting(n, posted_at=days_ago(age_days), **fields[n % 4]))
    sync(sql, source_id, postings)
    # When the search is read 37 at a time
    items, pages = walk(jobs_api, {"q": "golang", "limit": "37"})
    # Then every posting comes exactly once, in (tier, newest, id) order
    assert pages == 28
    ids = [item["id"] for item in items]
    assert len(ids) == 1000 == len(set(ids))

    def tier(item: dict[str, Any]) -> int:
        posted = datetime.fromisoformat(item["posted_at"])
        if posted < datetime.now(UTC) - timedelta(days=60):
            return 0
        if "Golang" in item["title"]:
            return 4
        if item["department"] == "Golang":
            return 3
        return 2 if item["location"] == "Golang Valley" else 1

    expected = sorted(items, key=lambda item: (tier(item), item["posted_at"], item["id"]), reverse=True)
    assert ids == [item["id"] for item in expected]


def test_a_cursor_of_one_sort_order_is_refused_by_the_other(jobs_api: ModuleType, sql: Sql) -> None:
    source_id = add_source(sql)
    sync(sql, source_id, [posting(n, posted_at=days_ago(n)) for n in range(3)])
    ranked = request(jobs_api, "GET", "/jobs", query={"q": "engineer", "limit": "1"})[1]["next_cursor"]
    newest = request(jobs_api, "GET", "/jobs", query={"q": "engineer", "sort": "newest", "limit": "1"})[1][
        "next_cursor"
    ]
    for query in ({"q": "engineer", "sort": "newest", "cursor": ranked}, {"q": "engineer", "cursor": newest}):
        status, body = request(jobs_api, "GET", "/jobs", query=query)
        assert status == 400, query
        assert body["error"]["message"].startswith("cursor:")


def test_an_unknown_sort_is_a_400_naming_sort(jobs_api: ModuleType, sql: Sql) -> None:
    status, body = request(jobs_api, "GET", "/jobs", query={"sort": "salary"})
    assert status == 400
    assert body["error"]["message"].startswith("sort:")


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("backe", ["Backend Engineer"]),  # the last word as a prefix
        ("senior backe", ["Senior Backend Engineer"]),
        ("recruter", ["Technical Recruiter"]),  # a mistyped title word
        ("sao paulo", ["Sales Lead"]),  # accents ignored in the location
        ("strpe", ["Sales Lead"]),  # a mistyped company name
    ],
)
def test_short_queries_forgive_prefixes_typos_and_accents(
    jobs_api: ModuleType, sql: Sql, q: str, expected: list[str]
) -> None:
    acme = add_source(sql)
    stripe = add_source(sql, ats="lever", board="stripe", company="Stripe")
    sync(
        sql,
        acme,
        [
            posting(1, title="Backend Engineer", department="Platform", posted_at=days_ago(3)),
            posting(2, title="Senior Backend Engineer", department="Platform", posted_at=days_ago(4)),
            posting(3, title="Technical Recruiter", department="People", posted_at=days_ago(5)),
        ],
    )
    sync(
        sql,
        stripe,
        [
            posting(
                4,
                ats="lever",
                board="stripe",
                title="Sales Lead",
                location="São Paulo, Brasil",
                locations=["São Paulo, Brasil"],
                posted_at=days_ago(6),
            )
        ],
    )
    body = request(jobs_api, "GET", "/jobs", query={"q": q})[1]
    assert titles(body)[: len(expected)] == expected
    if q.startswith("senior"):
        assert titles(body) == expected  # both words must match


def test_postings_of_the_company_a_query_names_come_first(jobs_api: ModuleType, sql: Sql) -> None:
    # Given Globex's posting, and Acme's posting that mentions Globex as a former client
    acme = add_source(sql)
    globex = add_source(sql, ats="lever", board="globex", company="Globex")
    sync(
        sql,
        acme,
        [posting(1, title="Account Manager", description_text="Ex-Globex welcome.", posted_at=days_ago(1))],
    )
    sync(sql, globex, [posting(2, ats="lever", board="globex", title="Data Analyst", posted_at=days_ago(9))])
    body = request(jobs_api, "GET", "/jobs", query={"q": "globex"})[1]
    assert titles(body) == ["Data Analyst", "Account Manager"]


@pytest.mark.parametrize("company", ["société générale", "SOCIETE GENERALE", "Societe Generale, "])
def test_the_company_filter_ignores_case_accents_and_punctuation(
    jobs_api: ModuleType, sql: Sql, company: str
) -> None:
    bank = add_source(sql, ats="lever", board="sg", company="Société Générale")
    other = add_source(sql, company="Generale Foods")
    sync(sql, bank, [posting(1, ats="lever", board="sg", title="Trader")])
    sync(sql, other, [posting(2, title="Baker")])
    assert titles(request(jobs_api, "GET", "/jobs", query={"company": company})[1]) == ["Trader"]


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("zurich", ["Zürich and Lisbon"]),
        ("ZÜRICH", ["Zürich and Lisbon"]),
        ("lisb", ["Zürich and Lisbon"]),  # any of the posting's locations, by word prefix
        ("sao paulo", ["São Paulo"]),
        ("são", ["São Paulo"]),
        ("paulo", ["São Paulo"]),
        ("zurich lisbon", []),  # words of two different places are not one place
        ("urich", []),
    ],
)
def test_the_location_filter_ignores_case_and_accents_and_matches_any_location(
    jobs_api: ModuleType, sql: Sql, location: str, expected: list[str]
) -> None:
    source_id = add_source(sql)
    sync(
        sql,
        source_id,
        [
            posting(
                1,
                title="Zürich and Lisbon",
                location="Zürich, Switzerland",
                locations=["Zürich, Switzerland", "Lisbon, Portugal"],
            ),
            posting(2, title="São Paulo", location="São Paulo, Brasil", locations=["São Paulo, Brasil"]),
        ],
    )
    assert titles(request(jobs_api, "GET", "/jobs", query={"location": location})[1]) == expected


def test_remote_true_also_finds_postings_remote_by_workplace_type(jobs_api: ModuleType, sql: Sql) -> None:
    # Given a posting flagged remote, one remote only by its workplace type, and an onsite one
    source_id = add_source(sql)
    sync(
        sql,
        source_id,
        [
            posting(1, title="Flagged", workplace_type=None, remote=True),
            posting(2, title="By type", workplace_type="remote", remote=None),
            posting(3, title="Onsite", workplace_type="onsite", remote=False),
        ],
    )
    assert titles(request(jobs_api, "GET", "/jobs", query={"remote": "true"})[1]) == ["By type", "Flagged"]
    assert titles(request(jobs_api, "GET", "/jobs", query={"remote": "false"})[1]) == ["Onsite"]


def test_a_synced_posting_is_found_by_its_description_at_once_and_a_changed_one_by_its_new_words(
    jobs_api: ModuleType, sql: Sql
) -> None:
    # Given a first import whose posting mentions Erlang only in its description
    source_id = add_source(sql)
    sync(
        sql,
        source_id,
        [posting(1, title="Elixir Developer", description_text="You will tune Erlang clusters.")],
    )
    # When the feed is searched by that word right after the sync
    found = request(jobs_api, "GET", "/jobs", query={"q": "erlang"})[1]
    # Then the posting is found: its search vector (the row trigger) includes the description
    assert titles(found) == ["Elixir Developer"]

    # When the description changes to name Gleam instead
    sync(
        sql,
        source_id,
        [posting(1, title="Elixir Developer", description_text="You will tune Gleam services.")],
    )
    # Then the new word finds it and the old one no longer does
    assert titles(request(jobs_api, "GET", "/jobs", query={"q": "gleam"})[1]) == ["Elixir Developer"]
    assert titles(request(jobs_api, "GET", "/jobs", query={"q": "erlang"})[1]) == []
