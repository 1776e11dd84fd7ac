"""SmartRecruiters posting API: ``GET /v1/companies/{id}/postings?limit=100&offset=N``.

Quirks (developers.smartrecruiters.com, Posting API):
- Pages carry ``totalFound``; paging continues until that many postings were read.
- The list has no description or apply link; the public page is
  ``https://jobs.smartrecruiters.com/{company}/{posting id}``.
- Remote is ``location.remote`` (and ``location.hybrid`` on newer accounts).
- A posting's detail, ``GET /v1/companies/{id}/postings/{postingId}``, holds the text as
  ``jobAd.sections`` (``companyDescription``, ``jobDescription``, ``qualifications``,
  ``additionalInformation``, each ``{title, text}``), the ``applyUrl``, and on some accounts a
  ``compensation`` range.
"""

from __future__ import annotations

from html import escape
from typing import Any, Final
from urllib.parse import quote

import httpx

from scout.jobs.ats.adapter import (
    AtsAdapter,
    api_url,
    board_token,
    first_path_segment,
    mapping,
    merged_posting,
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
from scout.jobs.html_text import description_fields
from scout.jobs.normalising import (
    clean_text,
    parse_employment_type,
    parse_salary_period,
    parse_timestamp,
    salary_fields,
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
        concurrent_after_total=True,
    )

    def collect(raw: Any) -> Posting:
        posting = normalise(raw, board)
        builder.list_entry(posting.external_id, raw, posting.external_id)
        return posting

    builder.add_each(raws, collect)
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


# The order the careers page shows them in; any other section follows in the answer's order.
_SECTION_ORDER = ("companyDescription", "jobDescription", "qualifications", "additionalInformation")


async def fetch_detail(
    board: str, listed: Posting, posting_id: str, session: AtsSession, settings: Settings
) -> Posting:
    url = api_url(settings.smartrecruiters_api_url, "v1", "companies", board, "postings", posting_id)
    detail = expect_object(await session.get_json(url), "the posting answer", KIND)
    return merged_posting(listed, detail_fields(detail, board))


def detail_fields(detail: dict[str, Any], board: str) -> dict[str, Any]:
    """What the posting detail adds to, or states better than, the list entry."""
    description_html = _sections_html(mapping(mapping(detail.get("jobAd")).get("sections")))
    compensation = mapping(detail.get("compensation"))
    salary = salary_fields(
        compensation.get("min"),
        compensation.get("max"),
        compensation.get("currency"),
        parse_salary_period(compensation.get("period") or compensation.get("interval")),
    )
    fields: dict[str, Any] = {
        **description_fields(description_html),
        "apply_url": clean_text(detail.get("applyUrl")),
        "url": clean_text(detail.get("postingUrl")),
        **(salary if salary["salary_min"] is not None else {}),
    }
    if detail.get("name"):
        listed_again = normalise(detail, board)
        fields.update(
            {
                key: value
                for key, value in listed_again.model_dump().items()
                if key in ("title", "location", "locations", "department", "employment_type", "posted_at")
                or (key in ("workplace_type", "remote") and value is not None)
            }
        )
    return fields


def _sections_html(sections: dict[str, Any]) -> str | None:
    names = [*_SECTION_ORDER, *(name for name in sections if name not in _SECTION_ORDER)]
    parts: list[str] = []
    for name in names:
        section = mapping(sections.get(name))
        text = section.get("text")
        if not isinstance(text, str) or not text.strip():
            continue
        title = clean_text(section.get("title"))
        if title:
            parts.append(f"<h3>{escape(title)}</h3>")
        parts.append(text)
    return "\n".join(parts) or None


ADAPTER = AtsAdapter(
    kind=KIND,
    canonical_board=canonical_board,
    board_from_url=board_from_url,
    fetch=fetch,
    fetch_detail=fetch_detail,
)
