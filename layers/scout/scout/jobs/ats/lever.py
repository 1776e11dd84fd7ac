"""Lever postings API: ``GET /v0/postings/{site}?mode=json&skip=N&limit=N``.

Quirks (github.com/lever/postings-api):
- The answer is a bare array with no total, so paging stops at the first short page.
- Sites hosted in the EU exist only on the EU host and answer 404 on the global one.
- ``createdAt`` is epoch milliseconds; ``workplaceType`` is ``on-site``/``remote``/``hybrid``/
  ``unspecified``; ``salaryRange.interval`` is e.g. ``per-year-salary``, ``per-hour-wage``.
"""

from __future__ import annotations

from html import escape
from typing import Any, Final

import httpx

from scout.errors import AtsNotFound
from scout.jobs.ats.adapter import (
    AtsAdapter,
    api_url,
    board_token,
    first_path_segment,
    mapping,
    objects,
    required_text,
)
from scout.jobs.fetching import AtsSession, Page, collect_offset_pages, expect_list, expect_object
from scout.jobs.html_text import description_fields
from scout.jobs.normalising import (
    clean_text,
    display_location,
    parse_employment_type,
    parse_salary_period,
    parse_timestamp,
    parse_workplace_type,
    salary_fields,
    unique_texts,
    workplace_fields,
)
from scout.jobs.posting import Posting
from scout.jobs.results import FetchResult, FetchResultBuilder
from scout.settings import Settings

KIND: Final = "lever"
PAGE_SIZE = 100
_HOSTS = frozenset({"jobs.lever.co", "jobs.eu.lever.co", "api.lever.co", "api.eu.lever.co"})


def canonical_board(board: str) -> str:
    return board_token(board, KIND)


def board_from_url(url: httpx.URL) -> str | None:
    if url.host not in _HOSTS:
        return None
    if url.host.startswith("api."):
        return first_path_segment(url, after=("v0", "postings"))
    return first_path_segment(url)


async def fetch(board: str, session: AtsSession, settings: Settings) -> FetchResult:
    try:
        return await _fetch_from(settings.lever_api_url, board, session)
    except AtsNotFound:
        pass
    # An EU-hosted site is unknown to the global host; it is the same site id on the EU host.
    try:
        return await _fetch_from(settings.lever_eu_api_url, board, session)
    except AtsNotFound:
        raise AtsNotFound(f"lever site {board!r} exists on neither the global nor the EU host") from None


async def _fetch_from(base_url: str, board: str, session: AtsSession) -> FetchResult:
    builder = FetchResultBuilder(KIND, board)
    url = api_url(base_url, "v0", "postings", board)

    async def page_at(offset: int) -> Page:
        data = await session.get_json(url, params={"mode": "json", "skip": offset, "limit": PAGE_SIZE})
        return Page(items=expect_list(data, "the postings answer", KIND))

    raws = await collect_offset_pages(
        page_at,
        page_size=PAGE_SIZE,
        key=_posting_id,
        builder=builder,
        max_pages=session.policy.max_pages,
    )
    builder.add_each(raws, lambda raw: normalise(raw, board))
    return builder.result()


def normalise(raw: Any, board: str) -> Posting:
    posting = expect_object(raw, "a posting", KIND)
    categories = mapping(posting.get("categories"))
    locations = unique_texts(
        [categories.get("location"), *(categories.get("allLocations") or [])]
        if isinstance(categories.get("allLocations"), list)
        else [categories.get("location")]
    )
    description_html = _description_html(posting)
    salary = mapping(posting.get("salaryRange"))
    workplace = parse_workplace_type(posting.get("workplaceType"))
    return Posting(
        ats=KIND,
        board=board,
        external_id=required_text(posting, "id"),
        title=required_text(posting, "text"),
        url=clean_text(posting.get("hostedUrl")),
        apply_url=clean_text(posting.get("applyUrl")),
        location=display_location(locations),
        locations=locations,
        department=clean_text(categories.get("department")),
        team=clean_text(categories.get("team")),
        employment_type=parse_employment_type(categories.get("commitment")),
        posted_at=parse_timestamp(posting.get("createdAt")),
        updated_at=parse_timestamp(posting.get("updatedAt")),
        **description_fields(description_html, posting.get("descriptionPlain")),
        **workplace_fields(workplace),
        **salary_fields(
            salary.get("min"),
            salary.get("max"),
            salary.get("currency"),
            parse_salary_period(salary.get("interval")),
        ),
    )


def _posting_id(raw: Any) -> str | None:
    value = raw.get("id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and value else None


def _description_html(posting: dict[str, Any]) -> str | None:
    """The opening, the titled lists (requirements, benefits ...) and the closing, in page order."""
    parts: list[str] = []
    if isinstance(posting.get("description"), str):
        parts.append(posting["description"])
    for section in objects(posting.get("lists")):
        heading, items = clean_text(section.get("text")), section.get("content")
        if heading:
            parts.append(f"<h3>{escape(heading)}</h3>")
        if isinstance(items, str) and items.strip():
            parts.append(f"<ul>{items}</ul>")
    if isinstance(posting.get("additional"), str):
        parts.append(posting["additional"])
    joined = "\n".join(part for part in parts if part.strip())
    return joined or None


ADAPTER = AtsAdapter(kind=KIND, canonical_board=canonical_board, board_from_url=board_from_url, fetch=fetch)
