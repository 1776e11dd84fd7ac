"""Careers pages fetched with the production default client go through the egress guard."""

from __future__ import annotations

import pytest

from scout.errors import BlockedTarget
from scout.jobs import clients
from scout.jobs.boards import fetch_board
from tests.integration.jobs.serving import quick_policy
from tests.support.ats_payloads import fixture_text
from tests.support.fake_ats import FakeAts, settings_for


async def test_a_loopback_careers_page_is_refused_unless_allow_listed() -> None:
    fake = FakeAts(pages={"/careers": fixture_text("jsonld_graph_page.html")})
    async with fake.server() as server:
        # Given the default egress policy (nothing allow-listed)
        refused = settings_for(server.url)
        try:
            # Then the loopback page is refused before any request reaches it
            with pytest.raises(BlockedTarget):
                await fetch_board("jsonld", f"{server.url}/careers", settings=refused, policy=quick_policy())
            assert server.stats.requests == []
        finally:
            await clients.careers_page_client(refused).aclose()

        # Given 127.0.0.1 allow-listed for local development
        allowed = settings_for(server.url, SCOUT_EGRESS_ALLOW="127.0.0.1")
        try:
            result = await fetch_board(
                "jsonld", f"{server.url}/careers", settings=allowed, policy=quick_policy()
            )
            assert result.complete
        finally:
            await clients.careers_page_client(allowed).aclose()
