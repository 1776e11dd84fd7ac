"""Workday candidate experience API: ``POST /wday/cxs/{tenant}/{site}/jobs``.

The board id is the careers URL, in either shape:
``https://{tenant}.wd{N}.myworkdayjobs.com[/{locale}]/{site}`` or
``https://wd{N}.myworkdaysite.com[/{locale}]/recruiting/{tenant}/{site}``; the API lives on
the same host (``WORKDAY_BASE_URL`` replaces its scheme and host, for tests; a ``{host}`` in it
stands for the tenant's own host, so a test can keep one host per tenant as production has).

Quirks (observed on public tenants; the API is undocumented):
- At most 20 postings per page; ``total`` is only right on the first page (later pages say 0).
- Some tenants stop paging at offset 2000 and answer page one again: that fetch is never
  complete.
- ``postedOn`` is relative text ("Posted Yesterday", "Posted 30+ Days Ago").
- One requisition open on several locations is listed once per location, the extra listings
  with ``-2``, ``-3`` ... after the requisition id in ``externalPath``; they are one job.
- Redirects are not followed: a tenant that moved or is down for maintenance redirects to an
  HTML page, which is an error here, not data.
- The list has no description. A posting's detail, ``GET /wday/cxs/{tenant}/{site}{externalPath}``,
  answers ``jobPostingInfo``: ``jobDescription`` (HTML), the real ``startDate`` (the list only
  says "Posted 30+ Days Ago"), ``timeType``, ``remoteType``, ``jobReqId``, ``location``,
  ``additionalLocations`` and ``country``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import httpx

from scout.errors import InvalidBoard
from scout.jobs.ats.adapter import (
    AtsAdapter,
    api_url,
    looks_like_token,
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
    display_location,
    parse_employment_type,
    parse_relative_posted,
    parse_timestamp,
    parse_workplace_type,
    unique_texts,
    workplace_fields,
)
from scout.jobs.posting import Posting
from scout.jobs.results import FetchResult, FetchResultBuilder, MalformedPosting
from scout.settings import Settings

KIND: Final = "workday"
PAGE_SIZE = 20
_JOBS_HOST = re.compile(r"^(?P<tenant>[a-z0-9][a-z0-9-]*)\.wd\d{1,3}\.myworkdayjobs\.com$")
_SITE_HOST = re.compile(r"^wd\d{1,3}\.myworkdaysite\.com$")
_LOCALE = re.compile(r"^[a-z]{2}-[a-z]{2}$", re.IGNORECASE)
_SEVERAL_LOCATIONS = re.compile(r"^\d+\s+locations?$", re.IGNORECASE)
_REPEAT_SUFFIX = re.compile(r"^(?P<base>.+)-(?P<n>\d{1,2})$")
_JOB_PATH = re.compile(r"^/job/(?!.*\.\.)[^?#]+$")


@dataclass(frozen=True)
class WorkdayBoard:
    host: str
    tenant: str
    site: str

    @property
    def careers_url(self) -> str:
        if _SITE_HOST.match(self.host):
            return f"https://{self.host}/recruiting/{self.tenant}/{self.site}"
        return f"https://{self.host}/{self.site}"

    def job_url(self, external_path: str) -> str:
        return self.careers_url + "/" + external_path.lstrip("/")


def parse_careers_url(text: str) -> WorkdayBoard | None:
    """The tenant and site of a Workday careers, job or API URL; None if it is not one."""
    try:
        url = httpx.URL(text.strip())
    except (httpx.InvalidURL, TypeError):
        return None
    host = url.host.lower()
    if url.scheme not in ("http", "https") or not host:
        return None
    segments = [segment for segment in url.path.split("/") if segment]
    if segments and _LOCALE.match(segments[0]) and len(segments) > 1:
        segments = segments[1:]
    if segments[:2] == ["wday", "cxs"] and len(segments) >= 4:
        tenant, site = segments[2], segments[3]
    elif (jobs_host := _JOBS_HOST.match(host)) and segments:
        tenant, site = jobs_host["tenant"], segments[0]
    elif _SITE_HOST.match(host) and len(segments) >= 3 and segments[0] == "recruiting":
        tenant, site = segments[1], segments[2]
    else:
        return None
    if not (_JOBS_HOST.match(host) or _SITE_HOST.match(host)):
        return None
    if not (looks_like_token(tenant) and looks_like_token(site)):
        return None
    return WorkdayBoard(host=host, tenant=tenant, site=site)


def canonical_board(board: str) -> str:
    parsed = parse_careers_url(board)
    if parsed is None:
        raise InvalidBoard(
            f"{board!r} is not a Workday careers URL (https://TENANT.wdN.myworkdayjobs.com/SITE or "
            "https://wdN.myworkdaysite.com/recruiting/TENANT/SITE)"
        )
    return parsed.careers_url


def board_from_url(url: httpx.URL) -> str | None:
    parsed = parse_careers_url(str(url))
    return parsed.careers_url if parsed else None


async def fetch(board: str, session: AtsSession, settings: Settings) -> FetchResult:
    workday = parse_careers_url(board)
    if workday is None:
        raise InvalidBoard(f"{board!r} is not a Workday careers URL")
    builder = FetchResultBuilder(KIND, board)
    url = api_url(_api_base(workday, settings), "wday", "cxs", workday.tenant, workday.site, "jobs")

    async def page_at(offset: int) -> Page:
        body = {"appliedFacets": {}, "limit": PAGE_SIZE, "offset": offset, "searchText": ""}
        data = expect_object(
            await session.post_json(url, body, follow_redirects=False), "the jobs answer", KIND
        )
        items = expect_list(data.get("jobPostings"), "jobPostings", KIND)
        # Only the first page's total is meaningful; later pages carry 0.
        total = expect_count(data.get("total"), "total", KIND) if offset == 0 else None
        if offset == 0 and total is None:
            builder.incomplete("the first page has no total to check the job count against")
        return Page(items=items, total=total)

    raws = await collect_offset_pages(
        page_at,
        page_size=PAGE_SIZE,
        key=lambda raw: raw.get("externalPath") if isinstance(raw, dict) else None,
        builder=builder,
        max_pages=session.policy.max_pages,
        total_on_every_page=False,
        concurrent_after_total=True,
    )
    for posting in _collapse_repeats(raws, workday, board, builder):
        builder.add(posting)
    return builder.result()


def _collapse_repeats(
    raws: list[Any], workday: WorkdayBoard, board: str, builder: FetchResultBuilder
) -> list[Posting]:
    """One posting per requisition, with the locations of all its listings."""
    by_requisition: dict[str, Posting] = {}
    repeats = 0
    listings = {
        listing_id(raw["externalPath"])
        for raw in raws
        if isinstance(raw, dict) and isinstance(raw.get("externalPath"), str)
    }

    def collect(raw: Any) -> None:
        nonlocal repeats
        posting = normalise(raw, workday, board, builder.fetched_at, listings)
        builder.list_entry(posting.external_id, raw, raw["externalPath"])
        earlier = by_requisition.get(posting.external_id)
        if earlier is None:
            by_requisition[posting.external_id] = posting
            return
        repeats += 1
        by_requisition[posting.external_id] = _merged(earlier, posting)

    builder.add_each(raws, collect)
    if repeats:
        builder.note(f"merged {repeats} repeated listing(s) of a requisition open in several locations")
    return list(by_requisition.values())


def _merged(earlier: Posting, repeat: Posting) -> Posting:
    locations = unique_texts([*earlier.locations, *repeat.locations])
    posted = [when for when in (earlier.posted_at, repeat.posted_at) if when is not None]
    return earlier.model_copy(
        update={
            "locations": locations,
            "location": display_location(locations) or earlier.location,
            "posted_at": min(posted) if posted else None,
        }
    )


def normalise(
    raw: Any, workday: WorkdayBoard, board: str, now: datetime, listings: set[str] | None = None
) -> Posting:
    item = expect_object(raw, "a job posting", KIND)
    external_path = required_text(item, "externalPath")
    locations_text = clean_text(item.get("locationsText"))
    # "3 Locations" is a count, not a place; the places are only on the job page.
    locations = [] if locations_text is None or _SEVERAL_LOCATIONS.match(locations_text) else [locations_text]
    bullet_fields = [field for field in item.get("bulletFields") or [] if isinstance(field, str)]
    return Posting(
        ats=KIND,
        board=board,
        external_id=requisition_id(listing_id(external_path), bullet_fields, listings or set()),
        title=required_text(item, "title"),
        url=workday.job_url(external_path),
        location=display_location(locations) or locations_text,
        locations=locations,
        employment_type=parse_employment_type(item.get("timeType")),
        posted_at=parse_relative_posted(item.get("postedOn"), now),
        **workplace_fields(parse_workplace_type(item.get("remoteType"))),
    )


def listing_id(external_path: str) -> str:
    """The id at the end of ``/job/City/Title_R123-2`` (``R123-2``)."""
    tail = external_path.rstrip("/").rsplit("/", 1)[-1]
    return tail.rsplit("_", 1)[-1]


def requisition_id(listing: str, bullet_fields: list[str], listings: set[str]) -> str:
    """The listing id without a repeat suffix, when there is evidence that it is one.

    ``R123-2`` is a repeat of ``R123`` when Workday shows ``R123`` in ``bulletFields`` or lists
    ``R123`` itself; an id such as ``2024-15`` or ``R-12`` keeps its own hyphen otherwise.
    """
    if listing in bullet_fields:
        return listing
    repeat = _REPEAT_SUFFIX.match(listing)
    if repeat and (repeat["base"] in bullet_fields or repeat["base"] in listings):
        return repeat["base"]
    return listing


def _api_base(workday: WorkdayBoard, settings: Settings) -> str:
    if settings.workday_base_url is None:
        return f"https://{workday.host}"
    # The host matched _JOBS_HOST or _SITE_HOST: letters, digits, dots and hyphens only.
    return settings.workday_base_url.replace("{host}", workday.host)


async def fetch_detail(
    board: str, listed: Posting, external_path: str, session: AtsSession, settings: Settings
) -> Posting:
    """The listed posting completed from ``jobPostingInfo``, the detail winning."""
    workday = parse_careers_url(board)
    if workday is None:
        raise InvalidBoard(f"{board!r} is not a Workday careers URL")
    if not _JOB_PATH.match(external_path):
        # The path comes from the ATS's answer: only a job path may be appended to the API URL.
        raise MalformedPosting(f"posting has an unexpected externalPath {external_path[:80]!r}")
    base = api_url(_api_base(workday, settings), "wday", "cxs", workday.tenant, workday.site)
    url = base + external_path
    data = expect_object(await session.get_json(url), "the job answer", KIND)
    return merged_posting(
        listed, detail_fields(expect_object(data.get("jobPostingInfo"), "jobPostingInfo", KIND))
    )


def detail_fields(info: dict[str, Any]) -> dict[str, Any]:
    """The posting fields ``jobPostingInfo`` states."""
    additional = info.get("additionalLocations")
    country = clean_text(mapping(info.get("country")).get("descriptor"))
    locations = unique_texts([info.get("location"), *(additional if isinstance(additional, list) else [])])
    if not locations and country:
        locations = [country]
    description_html = info.get("jobDescription") if isinstance(info.get("jobDescription"), str) else None
    workplace = parse_workplace_type(info.get("remoteType"))
    return {
        "title": clean_text(info.get("title")),
        "url": clean_text(info.get("externalUrl")),
        "locations": locations,
        "location": display_location(locations),
        "employment_type": parse_employment_type(info.get("timeType")),
        "posted_at": parse_timestamp(info.get("startDate")),
        **description_fields(description_html),
        **(workplace_fields(workplace) if workplace else {}),
    }


ADAPTER = AtsAdapter(
    kind=KIND,
    canonical_board=canonical_board,
    board_from_url=board_from_url,
    fetch=fetch,
    fetch_detail=fetch_detail,
)
