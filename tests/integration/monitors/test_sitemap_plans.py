"""Planning a monitor's pages from real sitemap files served by a loopback site.

The site listens on 127.0.0.2 (allow-listed) under the names site.test and www.site.test;
a canary on 127.0.0.1, same port, counts connections that must never happen (both in
conftest.py).
"""

from __future__ import annotations

import gzip

import httpx
import pytest

from scout.monitors.sitemaps import PageSource, SitemapError, plan_pages
from tests.support.sitemap_site import XML, Page, SitemapSite, index, urlset

pytestmark = pytest.mark.asyncio(loop_scope="session")


def on_site(site: SitemapSite, path: str, host: str = "site.test") -> str:
    return site.url(path, host)


async def test_site_root_plan_follows_robots_nested_index_and_gzip(
    site: SitemapSite, canary: SitemapSite, client: httpx.AsyncClient
) -> None:
    # Given a site whose robots.txt names an index, which nests an index and a gzipped urlset
    u = lambda path: on_site(site, path)  # noqa: E731
    site.routes.update(
        {
            "/robots.txt": Page(
                body=f"User-agent: *\nDisallow:\nSitemap: {u('/sitemap_index.xml')}\n".encode()
            ),
            "/sitemap_index.xml": Page(
                body=index(u("/sitemaps/pages.xml.gz"), u("/sitemaps/more.xml")), headers=XML
            ),
            "/sitemaps/more.xml": Page(body=index(u("/sitemaps/blog.xml")), headers=XML),
            "/sitemaps/pages.xml.gz": Page(
                body=gzip.compress(urlset(u("/"), u("/pricing#plans"), u("/pricing"), u("/admin/login"))),
                headers={"Content-Type": "application/gzip"},
            ),
            "/sitemaps/blog.xml": Page(
                body=gzip.compress(urlset(on_site(site, "/blog/one", "www.site.test"), u("/blog/two"))),
                headers={**XML, "Content-Encoding": "gzip"},
            ),
        }
    )

    # When the site root is planned with an excluded path
    plan = await plan_pages(PageSource(sitemap=u("/"), exclude=["/admin/*"]), client)

    # Then every listed page is kept once, in order, fragments dropped, the excluded one skipped
    assert plan.pages == [u("/"), u("/pricing"), on_site(site, "/blog/one", "www.site.test"), u("/blog/two")]
    assert plan.skipped == 2  # /pricing again (after its fragment went), /admin/login
    assert plan.sitemaps_read == 4
    assert canary.connections == 0


async def test_site_root_without_sitemap_lines_falls_back_to_sitemap_xml(
    site: SitemapSite, client: httpx.AsyncClient
) -> None:
    site.routes["/sitemap.xml"] = Page(body=urlset(on_site(site, "/a"), on_site(site, "/b")), headers=XML)

    plan = await plan_pages(PageSource(sitemap=on_site(site, "/"), max_pages=1), client)

    assert plan.pages == [on_site(site, "/a")]
    assert plan.capped
    assert plan.sitemaps_read == 1
    assert site.paths == ["/robots.txt", "/sitemap.xml"]


async def test_listed_urls_are_planned_without_any_request(
    site: SitemapSite, client: httpx.AsyncClient
) -> None:
    source = PageSource(
        urls=[on_site(site, "/x#top"), on_site(site, "/x"), on_site(site, "/blog/y")], include=["/blog/*"]
    )

    plan = await plan_pages(source, client)

    assert plan.pages == [on_site(site, "/blog/y")]
    assert plan.skipped == 2
    assert site.paths == []


async def test_missing_sitemap_is_an_http_error(site: SitemapSite, client: httpx.AsyncClient) -> None:
    with pytest.raises(SitemapError) as raised:
        await plan_pages(PageSource(sitemap=on_site(site, "/sitemap.xml")), client)

    assert raised.value.code == "http_error"
    assert "404" in raised.value.message


async def test_a_closed_port_is_unreachable(client: httpx.AsyncClient) -> None:
    async with SitemapSite({}, host="127.0.0.2") as gone:
        url = gone.url("/sitemap.xml", "site.test")

    with pytest.raises(SitemapError) as raised:
        await plan_pages(PageSource(sitemap=url), client)

    assert raised.value.code == "sitemap_unreachable"


async def test_every_page_excluded_leaves_no_pages(site: SitemapSite, client: httpx.AsyncClient) -> None:
    site.routes["/sitemap.xml"] = Page(body=urlset(on_site(site, "/a")), headers=XML)

    with pytest.raises(SitemapError) as raised:
        await plan_pages(PageSource(sitemap=on_site(site, "/sitemap.xml"), exclude=["*"]), client)

    assert raised.value.code == "no_pages"
