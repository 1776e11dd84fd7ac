"""SmartRecruiters posting API: ``GET /v1/companies/{id}/postings?limit=100&offset=N``.

Quirks (developers.smartrecruiters.com, Posting API):
- Pages carry ``totalFound``; paging continues until that many postings were read.
- The list has no description or apply link; the public page is
  ``https://jobs.smartrecruiters.com/{company}/{posting id}``.
- Remote is ``location.remote`` (and ``location.hybrid`` on newer accounts).
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import quote

import httpx

from scout.jobs.ats.adapter import (
    AtsAdapter,
    api_url,
    board_token,
    first_path_segment,
    mapping,
    required_text,
)
from scout.jobs.fetching import (
    AtsSession,
    Page,
    collect_offset_pages,
    expect_count,
    expect_list,
    expect_object,
)
from scout.jobs.normalising import (
    clean_text,
    parse_employment_type,
    parse_timestamp,
    unique_texts,
    workplace_fields,
)
from scout.jobs.posting import Posting
from scout.jobs.results import FetchResult, FetchResultBuilder
from scout.settings import Settings

KIND: Final = "smartrecruiters"
PAGE_SIZE = 100
PUBLIC_JOBS_URL = "https://jobs.smartrecruiters.com"
_HOSTS = frozenset({"jobs.smartrecruiters.com", "careers.smartrecruiters.com", "api.smartrecruiters.com"})


def canonical_board(board: str) -> str:
    return board_token(board, KIND)


def board_from_url(url: httpx.URL) -> str | None:
    if url.host not in _HOSTS:
        return None
    if url.host == "api.smartrecruiters.com":
        return first_path_segment(url, after=("v1", "companies"))
    return first_path_segment(url)


async def fetch(board: str, session: AtsSession, settings: Settings) -> FetchResult:
    builder = FetchResultBuilder(KIND, board)
    url = api_url(settings.smartrecruiters_api_url, "v1", "companies", board, "postings")

    async def page_at(offset: int) -> Page:
        data = expect_object(
            await session.get_json(url, params={"limit": PAGE_SIZE, "offset": offset}),
            "the postings answer",
            KIND,
        )
        total = expect_count(data.get("totalFound"), "totalFound", KIND)
        if total is None:
            builder.incomplete(f"the page at offset {offset} has no totalFound")
        return Page(items=expect_list(data.get("content"), "content", KIND), total=total)

    raws = await collect_offset_pages(
        page_at,
        page_size=PAGE_SIZE,
        key=lambda raw: str(raw["id"]) if isinstance(raw, dict) and raw.get("id") else None,
        builder=builder,
        max_pages=session.policy.max_pages,
    )
    builder.add_each(raws, lambda raw: normalise(raw, board))
    return builder.result()


def normalise(raw: Any, board: str) -> Posting:
    posting = expect_object(raw, "a posting", KIND)
    posting_id = required_text(posting, "id")
    company = clean_text(mapping(posting.get("company")).get("identifier")) or board
    place = mapping(posting.get("location"))
    location = _place(place)
    employment = mapping(posting.get("typeOfEmployment"))
    url = f"{PUBLIC_JOBS_URL}/{quote(company, safe='')}/{quote(posting_id, safe='')}"
    return Posting(
        ats=KIND,
        board=board,
        external_id=posting_id,
        title=required_text(posting, "name"),
        url=url,
        apply_url=None,
        location=location,
        locations=[location] if location else [],
        department=clean_text(mapping(posting.get("department")).get("label"))
        or clean_text(mapping(posting.get("function")).get("label")),
        employment_type=parse_employment_type(employment.get("label"))
        or parse_employment_type(employment.get("id")),
        posted_at=parse_timestamp(posting.get("releasedDate")),
        **_workplace(place),
    )


def _place(place: dict[str, Any]) -> str | None:
    full = clean_text(place.get("fullLocation"))
    if full:
        return full
    country = clean_text(place.get("country"))
    parts = unique_texts([place.get("city"), place.get("region"), country.upper() if country else None])
    return ", ".join(parts) or None


def _workplace(place: dict[str, Any]) -> dict[str, Any]:
    if place.get("hybrid") is True:
        return workplace_fields("hybrid")
    remote = place.get("remote")
    return workplace_fields(None, remote if isinstance(remote, bool) else None)


ADAPTER = AtsAdapter(kind=KIND, canonical_board=canonical_board, board_from_url=board_from_url, fetch=fetch)
