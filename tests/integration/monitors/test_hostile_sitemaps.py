"""Hostile sitemaps: each one ends in a clear SitemapError and reaches nothing it should not.

The site listens on 127.0.0.2 (allow-listed); a canary on 127.0.0.1, same port, counts any
connection the guard should have refused (both in conftest.py). Big bodies are streamed, so
the server's byte count shows how much the planner really read.
"""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import AsyncIterator

import httpx
import pytest

from scout.monitors.sitemaps import PageSource, SitemapError, SitemapLimits, plan_pages
from tests.support.sitemap_site import XML, Page, SitemapSite, index, urlset

pytestmark = pytest.mark.asyncio(loop_scope="session")

MB = 1024 * 1024


def u(site: SitemapSite, path: str) -> str:
    return site.url(path, "site.test")


async def planning_error(source: PageSource, client: httpx.AsyncClient, **limits: float) -> SitemapError:
    with pytest.raises(SitemapError) as raised:
        await plan_pages(source, client, limits=SitemapLimits(**limits))
    return raised.value


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>&lol9;</loc></url></urlset>"""


async def test_billion_laughs_is_refused_as_invalid(site: SitemapSite, client: httpx.AsyncClient) -> None:
    # Given a sitemap that defines nested entities
    site.routes["/sitemap.xml"] = Page(body=BILLION_LAUGHS, headers=XML)

    # When it is planned, Then it is refused for its DTD before any entity expands
    error = await planning_error(PageSource(sitemap=u(site, "/sitemap.xml")), client)
    assert error.code == "sitemap_invalid"
    assert "DTD" in error.message


async def test_external_entity_is_refused_and_never_fetched(
    site: SitemapSite, canary: SitemapSite, client: httpx.AsyncClient
) -> None:
    # Given a sitemap whose entity points at the canary and at a local file
    external = (
        f'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a SYSTEM "http://127.0.0.1:{site.port}/x">'
        '<!ENTITY b SYSTEM "file:///etc/passwd">]>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>&a;&b;</loc></url></urlset>'
    ).encode()
    site.routes["/sitemap.xml"] = Page(body=external, headers=XML)

    error = await planning_error(PageSource(sitemap=u(site, "/sitemap.xml")), client)

    assert error.code == "sitemap_invalid"
    assert canary.connections == 0


async def test_a_100_mb_stream_is_cut_at_the_limit(site: SitemapSite, client: httpx.AsyncClient) -> None:
    # Given a sitemap streamed without Content-Length: 100 MB of a urlset that never ends
    async def endless_urlset() -> AsyncIterator[bytes]:
        yield b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        filler = b"<!-- padding -->" * 4096
        for _ in range(100 * MB // len(filler)):
            yield filler

    site.routes["/sitemap.xml"] = Page(chunks=endless_urlset, headers=XML)

    # When it is planned with a 4 MB per-document limit
    error = await planning_error(
        PageSource(sitemap=u(site, "/sitemap.xml")), client, max_sitemap_bytes=4 * MB
    )

    # Then it is too large, and the server sent little more than the limit (socket buffers)
    assert error.code == "sitemap_too_large"
    assert site.bytes_sent < 12 * MB


async def test_a_declared_100_mb_body_is_refused_before_reading(
    site: SitemapSite, client: httpx.AsyncClient
) -> None:
    # The defaults (50 MB per sitemap, as sitemaps.org allows) refuse a declared 100 MB at once
    site.routes["/sitemap.xml"] = Page(body=b" " * (100 * MB), headers=XML)

    error = await planning_error(PageSource(sitemap=u(site, "/sitemap.xml")), client)

    assert error.code == "sitemap_too_large"
    assert "declares" in error.message


async def test_a_gzip_bomb_stops_at_the_decoded_limit(site: SitemapSite, client: httpx.AsyncClient) -> None:
    # Given a gzipped sitemap of about 100 KB that inflates to 100 MB
    bomb = gzip.compress(b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + b" " * (100 * MB))
    assert len(bomb) < 200 * 1024
    site.routes["/sitemap.xml.gz"] = Page(body=bomb, headers={"Content-Type": "application/gzip"})

    error = await planning_error(
        PageSource(sitemap=u(site, "/sitemap.xml.gz")), client, max_sitemap_bytes=2 * MB
    )

    assert error.code == "sitemap_too_large"
    assert "decoded" in error.message


async def test_a_gzip_bomb_in_content_encoding_stops_too(
    site: SitemapSite, client: httpx.AsyncClient
) -> None:
    inflater = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = inflater.compress(b"<urlset>" + b"\n" * (100 * MB)) + inflater.flush()
    site.routes["/sitemap.xml"] = Page(body=bomb, headers={**XML, "Content-Encoding": "gzip"})

    error = await planning_error(
        PageSource(sitemap=u(site, "/sitemap.xml")), client, max_sitemap_bytes=2 * MB
    )

    assert error.code == "sitemap_too_large"


async def test_10k_nested_indexes_stop_at_the_depth_limit(
    site: SitemapSite, client: httpx.AsyncClient
) -> None:
    # Given 10,000 indexes, each listing the next
    for level in range(10_000):
        site.routes[f"/index-{level}.xml"] = Page(body=index(u(site, f"/index-{level + 1}.xml")), headers=XML)

    error = await planning_error(PageSource(sitemap=u(site, "/index-0.xml")), client, max_depth=3)

    # Then it fails as too deep after reading only the allowed levels
    assert error.code == "sitemap_too_deep"
    assert site.paths == [f"/index-{level}.xml" for level in range(4)]


async def test_an_index_of_10k_sitemaps_stops_at_the_count_limit(
    site: SitemapSite, client: httpx.AsyncClient
) -> None:
    # Given an index listing 10,000 sitemaps that each list only excluded pages
    site.routes["/sitemap.xml"] = Page(
        body=index(*(u(site, f"/s/{n}.xml") for n in range(10_000))), headers=XML
    )
    for n in range(10_000):
        site.routes[f"/s/{n}.xml"] = Page(body=urlset(u(site, f"/private/{n}")), headers=XML)

    error = await planning_error(
        PageSource(sitemap=u(site, "/sitemap.xml"), exclude=["/private/*"]), client, max_sitemaps=20
    )

    assert error.code == "sitemap_too_many"
    assert len(site.paths) == 20


async def test_listed_private_addresses_are_dropped_unfetched(
    site: SitemapSite, canary: SitemapSite, client: httpx.AsyncClient
) -> None:
    # Given a urlset and an index entry that point at private addresses
    private = [
        f"http://127.0.0.1:{site.port}/",
        f"http://canary.test:{site.port}/admin",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
    ]
    site.routes["/sitemap.xml"] = Page(
        body=index(f"http://127.0.0.1:{site.port}/inner.xml", u(site, "/pages.xml")), headers=XML
    )
    site.routes["/pages.xml"] = Page(body=urlset(*private, u(site, "/ok")), headers=XML)

    plan = await plan_pages(PageSource(sitemap=u(site, "/sitemap.xml")), client)

    # Then only the site's own page is planned and nothing private was contacted
    assert plan.pages == [u(site, "/ok")]
    assert plan.skipped == 5
    assert canary.connections == 0


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_sitemap_redirecting_to_a_private_address_is_blocked(
    site: SitemapSite, canary: SitemapSite, client: httpx.AsyncClient, status: int
) -> None:
    # Given a public-looking sitemap URL that redirects to 127.0.0.1 (not allowed)
    site.routes["/sitemap.xml"] = Page(
        status, headers={"Location": f"http://127.0.0.1:{site.port}/sitemap.xml"}
    )

    error = await planning_error(PageSource(sitemap=u(site, "/sitemap.xml")), client)

    assert error.code == "blocked_target"
    assert canary.connections == 0


async def test_a_sitemap_on_a_private_address_is_blocked(
    canary: SitemapSite, client: httpx.AsyncClient
) -> None:
    error = await planning_error(PageSource(sitemap=canary.url("/sitemap.xml", "canary.test")), client)

    assert error.code == "blocked_target"
    assert canary.connections == 0


async def test_redirect_loops_are_bounded(site: SitemapSite, client: httpx.AsyncClient) -> None:
    site.routes["/sitemap.xml"] = Page(302, headers={"Location": "/sitemap.xml"})

    error = await planning_error(PageSource(sitemap=u(site, "/sitemap.xml")), client)

    assert error.code == "http_error"
    assert len(site.paths) == 6  # the request and five redirects


async def test_a_server_that_trickles_hits_the_plan_deadline(
    site: SitemapSite, client: httpx.AsyncClient
) -> None:
    # Given a server that sends one byte every 50 ms: no read ever times out
    async def trickle() -> AsyncIterator[bytes]:
        for byte in b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' * 100:
            yield bytes([byte])
            await asyncio.sleep(0.05)

    site.routes["/sitemap.xml"] = Page(chunks=trickle, headers=XML)

    error = await planning_error(PageSource(sitemap=u(site, "/sitemap.xml")), client, total_seconds=0.5)

    assert error.code == "timeout"


async def test_bytes_add_up_across_the_sitemaps_of_a_plan(
    site: SitemapSite, client: httpx.AsyncClient
) -> None:
    # Given five sitemaps of 300 KB each (pages excluded, so every one is read)
    padding = "<!--" + "x" * 300_000 + "-->"
    site.routes["/sitemap.xml"] = Page(body=index(*(u(site, f"/s/{n}.xml") for n in range(5))), headers=XML)
    for n in range(5):
        body = urlset(u(site, f"/skip/{n}")).replace(b"</urlset>", padding.encode() + b"</urlset>")
        site.routes[f"/s/{n}.xml"] = Page(body=body, headers=XML)

    error = await planning_error(
        PageSource(sitemap=u(site, "/sitemap.xml"), exclude=["/skip/*"]), client, max_total_bytes=1_000_000
    )

    assert error.code == "sitemap_too_large"
    assert "add up" in error.message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<html><body>Not found</body></html>", "not a sitemap"),
        (b"<urlset><url><loc>https://a.test/</loc></url>", "malformed"),
        (b"\x1f\x8b\x08\x00garbage", "gzip"),
        (b"", "empty"),
    ],
)
async def test_documents_that_are_not_sitemaps_are_invalid(
    site: SitemapSite, client: httpx.AsyncClient, body: bytes, expected: str
) -> None:
    site.routes["/sitemap.xml"] = Page(body=body, headers=XML)

    error = await planning_error(PageSource(sitemap=u(site, "/sitemap.xml")), client)

    assert error.code == "sitemap_invalid"
    assert expected in error.message
