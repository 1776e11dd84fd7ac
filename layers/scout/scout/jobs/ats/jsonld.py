"""Careers pages that publish schema.org ``JobPosting`` JSON-LD (the board id is the page URL).

The page is user-supplied, so it is fetched through the egress guard (the injected client
is the guarded one in production, see ``scout.jobs.clients``). Postings are read from every
JSON-LD block; an ``ItemList`` that only links to job pages is followed to those pages.

A posting's identity must survive re-polling: ``identifier`` first, then its own ``url``,
then a hash of title, location and date. Never the careers page's URL on its own, which
every posting on a listing page would share.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
from collections import Counter
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urljoin

import httpx

from scout.errors import AtsError, AtsNotFound, InvalidBoard
from scout.jobs.ats.adapter import AtsAdapter, html_or_none, mapping
from scout.jobs.fetching import AtsSession
from scout.jobs.html_text import description_fields
from scout.jobs.ld_json import JobPostingScan, scan_job_postings
from scout.jobs.normalising import (
    clean_text,
    display_location,
    parse_amount,
    parse_employment_type,
    parse_salary_period,
    parse_timestamp,
    parse_workplace_type,
    salary_fields,
    unique_texts,
    workplace_fields,
)
from scout.jobs.posting import Posting
from scout.jobs.results import FetchResult, FetchResultBuilder, MalformedPosting
from scout.settings import Settings

KIND: Final = "jsonld"
MAX_LISTED_PAGES = 200


@dataclass(frozen=True)
class _Found:
    node: dict[str, Any]
    page_url: str


def canonical_board(board: str) -> str:
    try:
        url = httpx.URL(board.strip())
    except (httpx.InvalidURL, TypeError):
        raise InvalidBoard(f"{board!r} is not a careers page URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidBoard(f"{board!r} is not an http(s) careers page URL")
    return str(url.copy_with(fragment=None))


def board_from_url(url: httpx.URL) -> str | None:
    """Any page may carry JSON-LD; detection falls back to this kind, it never claims a URL."""
    return None


async def fetch(board: str, session: AtsSession, settings: Settings) -> FetchResult:
    builder = FetchResultBuilder(KIND, board)
    page = await session.get_page(board)
    builder.pages = 1
    scan = scan_job_postings(page.text)
    found = [_Found(node, page.url) for node in scan.postings]
    _record_problems(scan, builder, where="the careers page")
    if scan.listed_urls and not scan.postings:
        found += await _follow_listing(scan, page.url, session, builder)
    if not found and not scan.item_lists:
        builder.incomplete("the page has no schema.org JobPosting (JSON-LD) and no ItemList of postings")
    identities = posting_identities([item.node for item in found], [item.page_url for item in found], board)
    builder.add_each(
        zip(found, identities, strict=True),
        lambda pair: normalise(pair[0].node, board, pair[0].page_url, pair[1]),
    )
    return builder.result()


def _record_problems(scan: JobPostingScan, builder: FetchResultBuilder, *, where: str) -> None:
    for problem in scan.problems:
        builder.incomplete(f"{where}: {problem}")


async def _follow_listing(
    scan: JobPostingScan, page_url: str, session: AtsSession, builder: FetchResultBuilder
) -> list[_Found]:
    urls = list(dict.fromkeys(urljoin(page_url, link) for link in scan.listed_urls))
    urls = [url for url in urls if url.startswith(("http://", "https://"))]
    if len(urls) > MAX_LISTED_PAGES:
        builder.incomplete(
            f"the listing links {len(urls)} job pages; only the first {MAX_LISTED_PAGES} were read"
        )
        urls = urls[:MAX_LISTED_PAGES]
    results = await asyncio.gather(*(session.get_page(url) for url in urls), return_exceptions=True)
    found: list[_Found] = []
    for url, result in zip(urls, results, strict=True):
        builder.pages += 1
        if isinstance(result, AtsNotFound):
            builder.note(f"listed job page {url} is gone (404)")
        elif isinstance(result, AtsError):
            builder.incomplete(f"listed job page {url} could not be fetched: {result.message}")
        elif isinstance(result, BaseException):
            raise result
        else:
            linked = scan_job_postings(result.text)
            _record_problems(linked, builder, where=url)
            if not linked.postings:
                builder.incomplete(f"listed job page {url} has no JobPosting")
            found += [_Found(node, result.url) for node in linked.postings]
    return found


def posting_identities(nodes: list[dict[str, Any]], page_urls: list[str], board: str) -> list[str]:
    """A stable id per posting: identifier, else own URL, else a content hash.

    An identifier or URL shared by several postings on the board (a site stamping the company
    name as ``identifier``, or every posting's ``url`` pointing at the list) identifies none of
    them, so it is passed over.
    """
    identifiers = [_identifier(node) for node in nodes]
    urls = [_own_url(node, page_url, board) for node, page_url in zip(nodes, page_urls, strict=True)]
    identifier_counts = Counter(value for value in identifiers if value)
    url_counts = Counter(value for value in urls if value)
    result = []
    for node, identifier, url in zip(nodes, identifiers, urls, strict=True):
        if identifier and identifier_counts[identifier] == 1:
            result.append(identifier)
        elif url and url_counts[url] == 1:
            result.append(url)
        else:
            result.append(_content_hash(node))
    return result


def _identifier(node: dict[str, Any]) -> str | None:
    raw = node.get("identifier")
    for candidate in raw if isinstance(raw, list) else [raw]:
        if isinstance(candidate, dict):
            candidate = candidate.get("value") if candidate.get("value") is not None else candidate.get("@id")
        text = clean_text(candidate)
        if text:
            return text
    return None


def _own_url(node: dict[str, Any], page_url: str, board: str) -> str | None:
    own = clean_text(node.get("url"))
    url = urljoin(page_url, own) if own else page_url
    return None if _same_page(url, board) else url


def _same_page(url: str, other: str) -> bool:
    return url.split("#", 1)[0].rstrip("/") == other.split("#", 1)[0].rstrip("/")


def _content_hash(node: dict[str, Any]) -> str:
    parts = [
        clean_text(node.get("title") or node.get("name")) or "",
        display_location(_locations(node)) or "",
        clean_text(node.get("datePosted")) or "",
    ]
    digest = hashlib.sha256("\n".join(parts).casefold().encode()).hexdigest()
    return f"sha256:{digest[:24]}"


def normalise(node: dict[str, Any], board: str, page_url: str, external_id: str) -> Posting:
    # Titles arrive entity-encoded as often as not ("Nurse &ndash; ICU").
    title = clean_text(html.unescape(str(node.get("title") or node.get("name") or "")))
    if not title:
        raise MalformedPosting("JobPosting has no title")
    own = clean_text(node.get("url"))
    description_html = _description_html(node.get("description"))
    locations = _locations(node)
    return Posting(
        ats=KIND,
        board=board,
        external_id=external_id,
        title=title,
        url=urljoin(page_url, own) if own else page_url,
        location=display_location(locations),
        locations=locations,
        department=clean_text(mapping(node.get("hiringOrganization")).get("department")),
        employment_type=parse_employment_type(node.get("employmentType")),
        posted_at=parse_timestamp(node.get("datePosted")),
        updated_at=parse_timestamp(node.get("dateModified")),
        **description_fields(description_html),
        **_workplace(node),
        **_salary(node.get("baseSalary")),
    )


def _description_html(value: Any) -> str | None:
    text = html_or_none(value)
    # Some sites entity-encode the HTML inside the JSON ("&lt;p&gt;...").
    if text and "<" not in text and "&lt;" in text:
        text = html.unescape(text)
    return text


def _locations(node: dict[str, Any]) -> list[str]:
    raw = node.get("jobLocation")
    places = raw if isinstance(raw, list) else [raw]
    texts: list[Any] = [_place_text(place) for place in places]
    if not any(texts):
        requirements = node.get("applicantLocationRequirements")
        regions = requirements if isinstance(requirements, list) else [requirements]
        texts = [_named(region) for region in regions]
    return unique_texts(texts)


def _place_text(place: Any) -> str | None:
    if isinstance(place, str):
        return clean_text(place)
    if not isinstance(place, dict):
        return None
    address = place.get("address")
    if isinstance(address, str):
        return clean_text(address)
    address = mapping(address)
    parts = unique_texts(
        [address.get("addressLocality"), address.get("addressRegion"), _named(address.get("addressCountry"))]
    )
    return ", ".join(parts) or clean_text(place.get("name"))


def _named(value: Any) -> str | None:
    """A Country, State or similar given as plain text or as ``{"@type": "Country", "name": ...}``."""
    if isinstance(value, dict):
        return clean_text(value.get("name") or value.get("identifier"))
    return clean_text(value)


def _workplace(node: dict[str, Any]) -> dict[str, Any]:
    location_type = node.get("jobLocationType")
    types = location_type if isinstance(location_type, list) else [location_type]
    if any(isinstance(value, str) and value.strip().upper() == "TELECOMMUTE" for value in types):
        return workplace_fields("remote")
    return workplace_fields(parse_workplace_type(node.get("workplaceType")))


def _salary(raw: Any) -> dict[str, Any]:
    amount = raw[0] if isinstance(raw, list) and raw else raw
    if isinstance(amount, int | float | str) and not isinstance(amount, bool):
        return salary_fields(amount, amount)
    amount = mapping(amount)
    value = amount.get("value")
    # unitText sits inside the QuantitativeValue per schema.org, but many sites put it outside.
    if isinstance(value, dict):
        unit = value.get("unitText") or amount.get("unitText")
        low = value.get("minValue") if value.get("minValue") is not None else value.get("value")
        high = value.get("maxValue") if value.get("maxValue") is not None else value.get("value")
    else:
        unit, low, high = amount.get("unitText"), value, value
    if parse_amount(low) is None and parse_amount(high) is None:
        return salary_fields(None, None)
    return salary_fields(low, high, amount.get("currency"), parse_salary_period(unit))


ADAPTER = AtsAdapter(kind=KIND, canonical_board=canonical_board, board_from_url=board_from_url, fetch=fetch)
