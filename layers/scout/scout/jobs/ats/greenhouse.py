"""Greenhouse job board API: ``GET /v1/boards/{token}/jobs?content=true``, one response.

Quirks (developers.greenhouse.io/job-board.html and real boards):
- ``content`` is HTML escaped once more as entities (``&lt;p&gt;``): unescape before use.
- ``first_published`` is when the job went live; ``updated_at`` changes on any edit.
- ``location.name`` is free text that may only say "Hybrid" or "Remote"; the city is then in
  ``offices[]``.
- Employment type and remote/hybrid are custom ``metadata[]`` fields (names vary per company)
  or only appear in text.
"""

from __future__ import annotations

import html
import re
from typing import Any, Final

import httpx

from scout.jobs.ats.adapter import (
    AtsAdapter,
    api_url,
    board_token,
    first_path_segment,
    looks_like_token,
    mapping,
    objects,
    required_text,
)
from scout.jobs.fetching import AtsSession, expect_count, expect_list, expect_object
from scout.jobs.html_text import description_fields, html_to_text
from scout.jobs.normalising import (
    clean_text,
    display_location,
    is_workplace_only,
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

KIND: Final = "greenhouse"
_HOSTS = frozenset(
    {
        "boards.greenhouse.io",
        "job-boards.greenhouse.io",
        "boards.eu.greenhouse.io",
        "job-boards.eu.greenhouse.io",
        "boards-api.greenhouse.io",
        "boards-api.eu.greenhouse.io",
        "api.greenhouse.io",
    }
)
_EMPLOYMENT_FIELD = re.compile(r"employment|job type|time type|contract type|position type|schedule", re.I)
_WORKPLACE_FIELD = re.compile(
    r"workplace|remote|location type|work type|arrangement|work model|on.?site", re.I
)
_SALARY_FIELD = re.compile(r"salary|compensation|pay|wage", re.I)
_LABELLED_EMPLOYMENT = re.compile(
    r"(?:employment|job|position)\s+type\s*[:\-]\s*([A-Za-z][A-Za-z \-]{2,30})", re.I
)


def canonical_board(board: str) -> str:
    return board_token(board, KIND)


def board_from_url(url: httpx.URL) -> str | None:
    if url.host not in _HOSTS:
        return None
    if url.host.startswith(("boards-api.", "api.")):
        return first_path_segment(url, after=("v1", "boards"))
    embedded_for = url.params.get("for")
    if first_path_segment(url) == "embed":
        return embedded_for if embedded_for and looks_like_token(embedded_for) else None
    return first_path_segment(url)


async def fetch(board: str, session: AtsSession, settings: Settings) -> FetchResult:
    builder = FetchResultBuilder(KIND, board)
    data = expect_object(
        await session.get_json(
            api_url(settings.greenhouse_api_url, "v1", "boards", board, "jobs"), params={"content": "true"}
        ),
        "the jobs answer",
        KIND,
    )
    builder.pages = 1
    jobs = expect_list(data.get("jobs"), "jobs", KIND)
    total = expect_count(mapping(data.get("meta")).get("total"), "meta.total", KIND)
    builder.reported_total = total
    if total is None:
        builder.incomplete("the answer has no meta.total to check the job count against")
    elif total != len(jobs):
        builder.incomplete(f"meta.total says {total} jobs but the answer lists {len(jobs)}")
    builder.add_each(jobs, lambda job: normalise(job, board))
    return builder.result()


def normalise(job: Any, board: str) -> Posting:
    job = expect_object(job, "a job", KIND)
    content_html = html.unescape(job["content"]) if isinstance(job.get("content"), str) else None
    metadata = objects(job.get("metadata"))
    title = required_text(job, "title")
    location_name = clean_text(mapping(job.get("location")).get("name"))
    offices = unique_texts(
        office.get("location") or office.get("name") for office in objects(job.get("offices"))
    )
    locations = _locations(location_name, offices)
    department, team = _department_and_team(objects(job.get("departments")))
    url = clean_text(job.get("absolute_url"))
    description = description_fields(content_html)
    return Posting(
        ats=KIND,
        board=board,
        external_id=required_text(job, "id"),
        title=title,
        url=url,
        apply_url=url,
        location=display_location(locations) or location_name,
        locations=locations,
        department=department,
        team=team,
        employment_type=_employment_type(metadata, title, description["description_text"]),
        posted_at=parse_timestamp(job.get("first_published")),
        updated_at=parse_timestamp(job.get("updated_at")),
        **description,
        **_workplace(metadata, location_name, title),
        **_salary(job, metadata),
    )


def _locations(location_name: str | None, offices: list[str]) -> list[str]:
    if location_name and not is_workplace_only(location_name):
        return unique_texts(re.split(r"\s*[;|]\s*", location_name))
    return offices


def _department_and_team(departments: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    if not departments:
        return None, None
    ids = {department.get("id") for department in departments}
    parents = [d for d in departments if d.get("parent_id") is None or d.get("parent_id") not in ids]
    children = [d for d in departments if d.get("parent_id") is not None and d.get("parent_id") in ids]
    top = clean_text((parents or departments)[0].get("name"))
    team = clean_text(children[0].get("name")) if children else None
    return top, team


def _metadata_values(metadata: list[dict[str, Any]], name: re.Pattern[str]) -> list[tuple[str, Any]]:
    return [
        (str(field.get("name")), field.get("value"))
        for field in metadata
        if isinstance(field.get("name"), str)
        and name.search(field["name"])
        and field.get("value") is not None
    ]


def _employment_type(metadata: list[dict[str, Any]], title: str, content_text: str | None) -> Any:
    for _, value in _metadata_values(metadata, _EMPLOYMENT_FIELD):
        kind = parse_employment_type(value if isinstance(value, list) else str(value))
        if kind:
            return kind
    labelled = _LABELLED_EMPLOYMENT.search(content_text or "")
    return parse_employment_type(title) or (parse_employment_type(labelled.group(1)) if labelled else None)


def _workplace(metadata: list[dict[str, Any]], location_name: str | None, title: str) -> dict[str, Any]:
    for name, value in _metadata_values(metadata, _WORKPLACE_FIELD):
        if isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in ("yes", "no")):
            # A yes/no custom field such as "Remote?" answers the question its name asks.
            answer = value if isinstance(value, bool) else value.strip().lower() == "yes"
            if parse_workplace_type(name) == "remote":
                return workplace_fields(None, answer)
            continue
        kind = parse_workplace_type(value if isinstance(value, list) else str(value))
        if kind:
            return workplace_fields(kind)
    return workplace_fields(parse_workplace_type([location_name or "", title]))


def _salary(job: dict[str, Any], metadata: list[dict[str, Any]]) -> dict[str, Any]:
    # Pay transparency ranges appear when the board publishes them (amounts in cents).
    for pay_range in objects(job.get("pay_input_ranges")):
        low, high = pay_range.get("min_cents"), pay_range.get("max_cents")
        if isinstance(low, int | float) and isinstance(high, int | float):
            period = parse_salary_period(str(pay_range.get("title") or "")) or parse_salary_period(
                html_to_text(str(pay_range.get("blurb") or "")) or ""
            )
            return salary_fields(low / 100, high / 100, pay_range.get("currency_type"), period)
    for name, value in _metadata_values(metadata, _SALARY_FIELD):
        if isinstance(value, dict) and ("min_value" in value or "max_value" in value):
            return salary_fields(
                value.get("min_value"), value.get("max_value"), value.get("unit"), parse_salary_period(name)
            )
    return salary_fields(None, None)


ADAPTER = AtsAdapter(kind=KIND, canonical_board=canonical_board, board_from_url=board_from_url, fetch=fetch)
