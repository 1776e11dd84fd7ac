"""The sitemap planner's loopback site: site.test and www.site.test on 127.0.0.2, the only
allow-listed address, and a canary on 127.0.0.1, same port, that counts any connection the
egress guard should have refused (canary.test names it)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from scout.egress.policy import EgressPolicy
from scout.monitors.sitemaps import new_sitemap_client
from tests.integration.egress.servers import NameTable
from tests.support.sitemap_site import SitemapSite


@pytest.fixture
async def site() -> AsyncIterator[SitemapSite]:
    async with SitemapSite({}, host="127.0.0.2") as served:
        yield served


@pytest.fixture
async def canary(site: SitemapSite) -> AsyncIterator[SitemapSite]:
    async with SitemapSite({}, host="127.0.0.1", port=site.port) as listening:
        yield listening


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # Loopback is NOT allowed: only 127.0.0.2, the site. The canary's 127.0.0.1 stays private.
    names = NameTable(
        {"site.test": ["127.0.0.2"], "www.site.test": ["127.0.0.2"], "canary.test": ["127.0.0.1"]}
    )
    async with new_sitemap_client(EgressPolicy(allow=["127.0.0.2"], resolver=names)) as guarded:
        yield guarded
