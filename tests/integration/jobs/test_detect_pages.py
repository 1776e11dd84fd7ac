"""Detecting a board from a company careers page that must be fetched to tell."""

from __future__ import annotations

import httpx
import pytest

from scout.errors import BlockedTarget
from scout.jobs.detect import detect_board
from tests.integration.jobs.serving import quick_policy, serving
from tests.support.ats_payloads import fixture_text
from tests.support.fake_ats import FakeAts, settings_for

EMBEDDING_PAGE = """<!DOCTYPE html><html><body>
<h1>Careers at Northwind</h1>
<div id="grnhse_app"></div>
<script src="https://boards.greenhouse.io/embed/job_board/js?for=northwind"></script>
</body></html>"""


async def test_a_careers_page_embedding_a_greenhouse_board_is_that_board() -> None:
    fake = FakeAts(pages={"/careers": EMBEDDING_PAGE})
    async with serving(fake) as env:
        detected = await detect_board(
            f"{env.url}/careers", client=env.client, settings=env.settings, policy=quick_policy()
        )
        assert (detected.ats, detected.board) == ("greenhouse", "northwind")


async def test_a_careers_page_with_only_json_ld_is_a_jsonld_board() -> None:
    fake = FakeAts(pages={"/careers": fixture_text("jsonld_graph_page.html")})
    async with serving(fake) as env:
        detected = await detect_board(
            f"{env.url}/careers#top", client=env.client, settings=env.settings, policy=quick_policy()
        )
        assert (detected.ats, detected.board) == ("jsonld", f"{env.url}/careers")


async def test_an_ats_url_is_recognised_without_any_request() -> None:
    async with serving(FakeAts()) as env:
        detected = await detect_board(
            "https://jobs.eu.lever.co/fieldnote/abc",
            client=env.client,
            settings=env.settings,
            policy=quick_policy(),
        )
        assert (detected.ats, detected.board) == ("lever", "fieldnote")
        assert env.server.stats.requests == []


async def test_a_page_that_cannot_be_fetched_falls_back_to_jsonld() -> None:
    async with serving(FakeAts()) as env:
        detected = await detect_board(
            f"{env.url}/gone", client=env.client, settings=env.settings, policy=quick_policy()
        )
        assert (detected.ats, detected.board) == ("jsonld", f"{env.url}/gone")


async def test_a_target_refused_by_the_egress_policy_is_reported_not_guessed() -> None:
    # Given a client whose transport refuses the address (as the egress guard does)
    def refuse(request: httpx.Request) -> httpx.Response:
        raise BlockedTarget(f"{request.url.host} is not a public address")

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        with pytest.raises(BlockedTarget):
            await detect_board(
                "http://10.0.0.5/careers",
                client=client,
                settings=settings_for("http://127.0.0.1:9"),
                policy=quick_policy(),
            )
