"""Each adapter end to end against a fake ATS: every page read, counts checked, complete."""

from __future__ import annotations

from scout.jobs.boards import fetch_board
from tests.integration.jobs.serving import quick_policy, serving
from tests.support.ats_payloads import (
    fixture_json,
    fixture_text,
    greenhouse_job,
    jsonld_job_page,
    lever_posting,
    smartrecruiters_posting,
    workday_posting,
)
from tests.support.fake_ats import FakeAts
from tests.support.http_server import Fault

WORKDAY_BOARD = "https://acme.wd5.myworkdayjobs.com/en-US/External"


async def test_greenhouse_board_is_fetched_in_one_request_with_content() -> None:
    fake = FakeAts(greenhouse={"northwind": fixture_json("greenhouse_jobs.json")["jobs"]})
    async with serving(fake) as env:
        result = await fetch_board(
            "greenhouse", "northwind", client=env.client, settings=env.settings, policy=quick_policy()
        )
        assert result.complete
        assert result.reported_total == 3
        assert len(result.postings) == 3
        assert env.server.stats.requests[0].param("content") == "true"
        assert env.server.stats.paths() == ["/v1/boards/northwind/jobs"]


async def test_lever_pages_until_a_short_page() -> None:
    # Given a site with 250 postings and pages of 100
    fake = FakeAts(lever={"acme": [lever_posting(n) for n in range(250)]})
    async with serving(fake) as env:
        # When it is fetched
        result = await fetch_board(
            "lever", "acme", client=env.client, settings=env.settings, policy=quick_policy()
        )

        # Then three pages were read, with skip/limit, and every posting is there
        assert result.complete
        assert len({p.external_id for p in result.postings}) == 250
        skips = [request.param("skip") for request in env.server.stats.requests]
        assert skips == ["0", "100", "200"]
        assert {request.param("mode") for request in env.server.stats.requests} == {"json"}


async def test_lever_site_that_ignores_skip_is_never_complete() -> None:
    # Given a site that answers the same first page whatever the skip
    fake = FakeAts(lever={"acme": [lever_posting(n) for n in range(150)]}, lever_ignores_skip=True)
    async with serving(fake) as env:
        # When it is fetched
        result = await fetch_board(
            "lever", "acme", client=env.client, settings=env.settings, policy=quick_policy()
        )

        # Then paging stops at the repeat and the result is not complete
        assert not result.complete
        assert len(result.postings) == 100
        assert len(env.server.stats.requests) == 2


async def test_smartrecruiters_pages_past_a_server_page_cap_to_total_found() -> None:
    # Given a server that sends at most 30 postings a page although 100 are asked for
    fake = FakeAts(
        smartrecruiters={"Acme": [smartrecruiters_posting(n) for n in range(70)]}, page_size_cap=30
    )
    async with serving(fake) as env:
        result = await fetch_board(
            "smartrecruiters", "Acme", client=env.client, settings=env.settings, policy=quick_policy()
        )
        assert result.complete
        assert len(result.postings) == 70
        pages = env.server.stats.to(r"/postings$")
        assert sorted(int(request.param("offset")) for request in pages) == [0, 30, 60]


async def test_ashby_board_is_fetched_with_compensation() -> None:
    fake = FakeAts(ashby={"lumen": fixture_json("ashby_job_board.json")["jobs"]})
    async with serving(fake) as env:
        result = await fetch_board(
            "ashby", "lumen", client=env.client, settings=env.settings, policy=quick_policy()
        )
        assert result.complete
        assert len(result.postings) == 3  # one of four is unlisted
        assert env.server.stats.requests[0].param("includeCompensation") == "true"
        assert any(p.salary_min is not None for p in result.postings)


async def test_workday_pages_twenty_at_a_time_by_post() -> None:
    # Given a tenant with 45 postings
    fake = FakeAts(workday={("acme", "External"): [workday_posting(n) for n in range(45)]})
    async with serving(fake) as env:
        # When it is fetched
        result = await fetch_board(
            "workday", WORKDAY_BOARD, client=env.client, settings=env.settings, policy=quick_policy()
        )

        # Then three POSTs with the documented body were made and all 45 postings are there
        assert result.complete
        assert result.board == "https://acme.wd5.myworkdayjobs.com/External"
        assert len(result.postings) == 45
        pages = env.server.stats.to(r"/jobs$")
        bodies = [request.json() for request in pages]
        assert sorted(body["offset"] for body in bodies) == [0, 20, 40]
        assert all(
            body == {"appliedFacets": {}, "limit": 20, "offset": body["offset"], "searchText": ""}
            for body in bodies
        )
        assert {request.method for request in pages} == {"POST"}
        assert result.postings[0].url is not None
        assert result.postings[0].url.startswith("https://acme.wd5.myworkdayjobs.com/External/job/")


async def test_smartrecruiters_pages_until_total_found() -> None:
    fake = FakeAts(smartrecruiters={"Acme": [smartrecruiters_posting(n) for n in range(230)]})
    async with serving(fake) as env:
        result = await fetch_board(
            "smartrecruiters", "Acme", client=env.client, settings=env.settings, policy=quick_policy()
        )
        assert result.complete
        assert result.reported_total == 230
        assert len(result.postings) == 230
        pages = env.server.stats.to(r"/postings$")
        assert sorted(int(request.param("offset")) for request in pages) == [0, 100, 200]
        assert {request.param("limit") for request in pages} == {"100"}


async def test_jsonld_careers_page_is_read() -> None:
    fake = FakeAts(pages={"/careers": fixture_text("jsonld_graph_page.html")})
    async with serving(fake) as env:
        result = await fetch_board(
            "jsonld", f"{env.url}/careers", client=env.client, settings=env.settings, policy=quick_policy()
        )
        assert result.complete
        assert {p.external_id for p in result.postings} == {"BW-ICU-0042", "BW-COD-0107", "881"}


async def test_jsonld_listing_is_followed_to_its_job_pages() -> None:
    # Given a listing page whose ItemList only links to three job pages
    fake = FakeAts(
        pages={
            "/vacancies": fixture_text("jsonld_listing_page.html"),
            **{f"/vacancies/{n}": jsonld_job_page(n) for n in (1, 2, 3)},
        }
    )
    async with serving(fake) as env:
        # When the listing is fetched
        result = await fetch_board(
            "jsonld", f"{env.url}/vacancies", client=env.client, settings=env.settings, policy=quick_policy()
        )

        # Then each linked page's posting is read
        assert result.complete
        assert sorted(p.external_id for p in result.postings) == ["AH-1", "AH-2", "AH-3"]
        assert result.pages == 4


async def test_jsonld_listing_with_a_failing_job_page_is_incomplete() -> None:
    fake = FakeAts(
        pages={
            "/vacancies": fixture_text("jsonld_listing_page.html"),
            "/vacancies/1": jsonld_job_page(1),
            "/vacancies/2": jsonld_job_page(2),
            "/vacancies/3": jsonld_job_page(3),
        }
    )
    async with serving(fake) as env:
        env.server.inject(Fault(path="^/vacancies/2$", status=500, times=10))
        result = await fetch_board(
            "jsonld", f"{env.url}/vacancies", client=env.client, settings=env.settings, policy=quick_policy()
        )
        assert not result.complete
        assert sorted(p.external_id for p in result.postings) == ["AH-1", "AH-3"]


async def test_jsonld_page_without_postings_is_not_a_complete_empty_board() -> None:
    fake = FakeAts(pages={"/careers": "<html><body><h1>Join us!</h1></body></html>"})
    async with serving(fake) as env:
        result = await fetch_board(
            "jsonld", f"{env.url}/careers", client=env.client, settings=env.settings, policy=quick_policy()
        )
        assert result.postings == []
        assert not result.complete


async def test_greenhouse_board_with_many_jobs_keeps_them_all() -> None:
    fake = FakeAts(greenhouse={"big": [greenhouse_job(n, "big") for n in range(600)]})
    async with serving(fake) as env:
        result = await fetch_board(
            "greenhouse", "big", client=env.client, settings=env.settings, policy=quick_policy()
        )
        assert result.complete
        assert len(result.postings) == 600
