"""The planner's rules without the network: globs, sites, normalisation, sources, readers."""

from __future__ import annotations

import gzip

import httpx
import pytest
from pydantic import ValidationError

from scout.monitors.sitemap_xml import DECODED_CHUNK_BYTES, BodyDecoder, SitemapFormatError, SitemapReader
from scout.monitors.sitemaps import PageSource, SitemapError, glob_matches, plan_pages, site_of


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/blog/*", "/blog/2026/post", True),
        ("/blog/*", "/blog", False),
        ("/blog*", "/blog", True),
        ("*.pdf", "/files/report.pdf", True),
        ("/p?ge", "/page", True),
        ("/p?ge", "/pge", False),
        ("/exact", "/exact/more", False),
        ("*", "/", True),
        ("/a*b*c", "/aXXbYYc", True),
        ("/a*b*c", "/aXXbYY", False),
    ],
)
def test_globs_match_the_whole_path_with_star_spanning_slashes(
    pattern: str, path: str, matches: bool
) -> None:
    assert glob_matches(pattern, path) is matches


def test_a_pattern_full_of_stars_does_not_backtrack_for_long() -> None:
    # A regex translation would try every split; the two-pointer match is linear per star
    assert not glob_matches("/" + "*a" * 100 + "b", "/" + "a" * 2000)


@pytest.mark.parametrize(
    ("host", "site"),
    [
        ("www.Example.com", "example.com"),
        ("example.com.", "example.com"),
        ("www.com", "www.com"),
        ("a.b.c", "a.b.c"),
    ],
)
def test_www_counts_as_the_same_site(host: str, site: str) -> None:
    assert site_of(host) == site


def test_a_source_needs_exactly_one_of_urls_and_sitemap() -> None:
    with pytest.raises(ValidationError, match="either urls or sitemap"):
        PageSource()
    with pytest.raises(ValidationError, match="either urls or sitemap"):
        PageSource(urls=["https://a.test/"], sitemap="https://a.test/sitemap.xml")


@pytest.mark.parametrize(
    "fields",
    [
        {"urls": ["ftp://a.test/"]},
        {"sitemap": "https://user@a.test/sitemap.xml"},
        {"urls": ["https://a.test/"], "exclude": ["blog/*"]},
        {"urls": ["https://a.test/"], "max_pages": 501},
        {"urls": ["https://a.test/"], "max_pages": 0},
    ],
)
def test_bad_sources_are_refused_with_a_reason(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        PageSource.model_validate(fields)


async def test_listed_urls_are_normalised_deduplicated_and_capped() -> None:
    # Given spellings of one page, a fragment, and more pages than the cap
    source = PageSource(
        urls=[
            "HTTPS://A.test:443/x/../page#top",
            "https://a.test/page",
            "https://a.test/two",
            "https://a.test/3",
        ],
        max_pages=2,
    )

    async with httpx.AsyncClient() as unused:
        plan = await plan_pages(source, unused)

    assert plan.pages == ["https://a.test/page", "https://a.test/two"]
    assert plan.skipped == 2
    assert plan.capped


async def test_a_list_left_empty_by_its_globs_has_no_pages() -> None:
    async with httpx.AsyncClient() as unused:
        with pytest.raises(SitemapError) as raised:
            await plan_pages(PageSource(urls=["https://a.test/admin"], include=["/blog/*"]), unused)
    assert raised.value.code == "no_pages"


def read(document: bytes, *, piece: int = 7) -> list[tuple[str, str]]:
    reader = SitemapReader()
    for start in range(0, len(document), piece):
        reader.feed(document[start : start + piece])
    reader.finish()
    return [(entry.kind, entry.loc) for entry in reader.take()]


def test_only_the_sitemap_namespace_loc_counts_as_a_page() -> None:
    document = b"""<?xml version="1.0"?>
    <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
            xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
      <url><loc> https://a.test/p </loc>
        <image:image><image:loc>https://cdn.test/i.png</image:loc></image:image></url>
    </urlset>"""

    assert read(document) == [("page", "https://a.test/p")]


def test_an_index_yields_sitemaps() -> None:
    document = b"<sitemapindex><sitemap><loc>https://a.test/s.xml</loc></sitemap></sitemapindex>"

    assert read(document) == [("sitemap", "https://a.test/s.xml")]


def test_a_text_sitemap_yields_one_page_per_line() -> None:
    assert read(b"https://a.test/1\r\n\nhttps://a.test/2") == [
        ("page", "https://a.test/1"),
        ("page", "https://a.test/2"),
    ]


def test_a_dtd_is_refused_even_without_entities() -> None:
    with pytest.raises(SitemapFormatError, match="DTD"):
        read(b'<!DOCTYPE urlset SYSTEM "http://a.test/x.dtd"><urlset/>')


def test_gzip_inflates_in_bounded_pieces_across_members() -> None:
    # Given two gzip members, the first inflating to far more than one piece
    data = gzip.compress(b"a" * (5 * DECODED_CHUNK_BYTES)) + gzip.compress(b"tail")
    decoder = BodyDecoder("")

    pieces = [
        piece for start in range(0, len(data), 100) for piece in decoder.feed(data[start : start + 100])
    ]
    pieces += list(decoder.finish())

    assert max(len(piece) for piece in pieces) <= DECODED_CHUNK_BYTES
    assert b"".join(pieces) == b"a" * (5 * DECODED_CHUNK_BYTES) + b"tail"


def test_a_truncated_gzip_is_refused() -> None:
    decoder = BodyDecoder("gzip")
    list(decoder.feed(gzip.compress(b"<urlset/>" * 100)[:-12]))

    with pytest.raises(SitemapFormatError, match="ends early"):
        list(decoder.finish())


def test_unsupported_content_encoding_is_refused() -> None:
    with pytest.raises(SitemapFormatError, match="Content-Encoding"):
        BodyDecoder("br")
