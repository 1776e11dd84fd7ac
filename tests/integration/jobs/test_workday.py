"""Workday: the offset clamp is detected, repeated listings collapse, redirects are refused."""

from __future__ import annotations

import pytest

from scout.errors import AtsBadResponse
from scout.jobs.boards import fetch_board
from tests.integration.jobs.serving import quick_policy, serving
from tests.support.ats_payloads import workday_posting
from tests.support.fake_ats import FakeAts
from tests.support.http_server import Fault

BOARD = "https://acme.wd5.myworkdayjobs.com/External"
SITE_BOARD = "https://wd1.myworkdaysite.com/recruiting/acme/External"


async def test_a_tenant_that_repeats_page_one_past_its_clamp_is_never_complete() -> None:
    # Given 70 postings, but the tenant answers page one again from offset 40
    fake = FakeAts(
        workday={("acme", "External"): [workday_posting(n) for n in range(70)]}, workday_offset_clamp=40
    )
    async with serving(fake) as env:
        # When it is fetched
        result = await fetch_board(
            "workday", BOARD, client=env.client, settings=env.settings, policy=quick_policy()
        )

        # Then the real 40 postings are kept, reading stopped at the repeat, and it is incomplete
        # (the pages up to the total were requested at once, as soon as the first page gave it)
        assert not result.complete
        assert len(result.postings) == 40
        assert result.reported_total == 70
        assert sorted(request.json()["offset"] for request in env.server.stats.to(r"/jobs$")) == [
            0,
            20,
            40,
            60,
        ]
        assert any("repeats postings" in warning for warning in result.warnings)


async def test_a_requisition_listed_on_several_locations_becomes_one_posting() -> None:
    # Given JR100005 listed in Austin, and again as -2 in Denver on the next page
    postings = [workday_posting(n) for n in range(25)]
    postings.insert(22, workday_posting(5, suffix="-2", location="Denver, CO"))
    fake = FakeAts(workday={("acme", "External"): postings})
    async with serving(fake) as env:
        result = await fetch_board(
            "workday", BOARD, client=env.client, settings=env.settings, policy=quick_policy()
        )

        # Then it is complete with one posting carrying both locations
        assert result.complete
        assert result.reported_total == 26
        assert len(result.postings) == 25
        merged = next(p for p in result.postings if p.external_id == "JR100005")
        assert merged.locations == ["Austin, TX", "Denver, CO"]


async def test_the_myworkdaysite_shape_posts_to_the_same_api_path() -> None:
    fake = FakeAts(workday={("acme", "External"): [workday_posting(n) for n in range(3)]})
    async with serving(fake) as env:
        result = await fetch_board(
            "workday", SITE_BOARD, client=env.client, settings=env.settings, policy=quick_policy()
        )
        assert result.complete
        assert {request.path for request in env.server.stats.to(r"/jobs$")} == {
            "/wday/cxs/acme/External/jobs"
        }
        assert result.postings[0].url is not None
        assert result.postings[0].url.startswith(
            "https://wd1.myworkdaysite.com/recruiting/acme/External/job/"
        )


async def test_a_redirect_is_not_followed() -> None:
    fake = FakeAts(
        workday={("acme", "External"): [workday_posting(1)]}, pages={"/maintenance": "<html></html>"}
    )
    async with serving(fake) as env:
        env.server.inject(Fault(path="^/wday/", status=302, headers={"Location": f"{env.url}/maintenance"}))
        with pytest.raises(AtsBadResponse, match="redirected"):
            await fetch_board(
                "workday", BOARD, client=env.client, settings=env.settings, policy=quick_policy()
            )
        assert env.server.stats.paths() == ["/wday/cxs/acme/External/jobs"]
