"""Workday: the offset clamp is detected, repeated listings collapse, redirects are refused."""

from __future__ import annotations

import pytest

from scout.errors import AtsBadResponse
from scout.jobs.boards import fetch_board
from tests.integration.jobs.serving import quick_policy, serving
from tests.support.ats_payloads import workday_posting
from tests.support.fake_ats import FakeAts
from tests.support.http_server import Fault
from tests.support.loopback_names import WORKDAY_HOSTS, resolving_to_loopback

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


async def test_a_base_url_naming_the_tenant_host_keeps_one_host_per_tenant() -> None:
    # Given two tenants on one fake, reached as production reaches them: each at its own host
    fake = FakeAts(
        workday={
            ("acme", "External"): [workday_posting(n) for n in range(3)],
            ("globex", "External"): [workday_posting(n) for n in range(2)],
        }
    )
    async with serving(fake) as env:
        settings = env.settings.model_copy(
            update={"workday_base_url": env.url.replace("127.0.0.1", "{host}")}
        )

        # When both boards are fetched, their names resolving to the fake on loopback
        with resolving_to_loopback(WORKDAY_HOSTS):
            results = [
                await fetch_board(
                    "workday", board, client=env.client, settings=settings, policy=quick_policy()
                )
                for board in (BOARD, "https://globex.wd5.myworkdayjobs.com/External")
            ]

        # Then each tenant's requests went to its own host (so per-host caps apply per tenant)
        port = env.server.port
        assert {request.headers["host"] for request in env.server.stats.requests} == {
            f"acme.wd5.myworkdayjobs.com:{port}",
            f"globex.wd5.myworkdayjobs.com:{port}",
        }
        assert [len(result.postings) for result in results] == [3, 2]
        assert all(result.complete for result in results)
