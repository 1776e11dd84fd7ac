"""Lever sites hosted in the EU are found on the EU host after a 404 on the global one."""

from __future__ import annotations

import httpx
import pytest

from scout.errors import AtsNotFound
from scout.jobs.boards import fetch_board
from tests.integration.jobs.serving import quick_policy
from tests.support.ats_payloads import lever_posting
from tests.support.fake_ats import FakeAts, settings_for


async def test_a_site_unknown_on_the_global_host_is_fetched_from_the_eu_host() -> None:
    # Given the site exists only on the EU host
    global_host = FakeAts(lever={})
    eu_host = FakeAts(lever={"eurosite": [lever_posting(n, "eurosite") for n in range(3)]})
    async with global_host.server() as world, eu_host.server() as eu, httpx.AsyncClient() as client:
        settings = settings_for(world.url, LEVER_EU_API_URL=eu.url)

        # When it is fetched
        result = await fetch_board(
            "lever", "eurosite", client=client, settings=settings, policy=quick_policy()
        )

        # Then the global host answered 404 and the EU host served every posting
        assert result.complete
        assert len(result.postings) == 3
        assert world.stats.paths() == ["/v0/postings/eurosite"]
        assert eu.stats.paths() == ["/v0/postings/eurosite"]


async def test_a_site_on_the_global_host_never_touches_the_eu_host() -> None:
    global_host = FakeAts(lever={"acme": [lever_posting(1)]})
    eu_host = FakeAts(lever={})
    async with global_host.server() as world, eu_host.server() as eu, httpx.AsyncClient() as client:
        settings = settings_for(world.url, LEVER_EU_API_URL=eu.url)
        result = await fetch_board("lever", "acme", client=client, settings=settings, policy=quick_policy())
        assert result.complete
        assert eu.stats.requests == []


async def test_a_site_unknown_on_both_hosts_is_not_found() -> None:
    async with FakeAts().server() as world, FakeAts().server() as eu, httpx.AsyncClient() as client:
        settings = settings_for(world.url, LEVER_EU_API_URL=eu.url)
        with pytest.raises(AtsNotFound, match="neither"):
            await fetch_board("lever", "ghost", client=client, settings=settings, policy=quick_policy())
