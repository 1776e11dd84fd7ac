"""Ashby public job board API: ``GET /posting-api/job-board/{name}?includeCompensation=true``.

Quirks (developers.ashbyhq.com, "Job Postings API"):
- One answer with every job, and no total; answers can take ten seconds or more.
- ``isListed: false`` jobs are hidden from the board and must not be shown.
- ``workplaceType`` (``OnSite``/``Remote``/``Hybrid``) is the truth; ``isRemote`` is older and
  disagrees with it on hybrid jobs.
- ``secondaryLocations[]`` lists the other places a job is open in.
- Pay is in ``compensation.compensationTiers[].components[]`` where ``compensationType`` is
  ``Salary``, with an ``interval`` such as ``1 YEAR`` or ``1 HOUR``; equity and bonus
  components sit beside it.
"""

from __future__ import annotations

from typing import Any, Final

import httpx

from scout.jobs.ats.adapter import (
    AtsAdapter,
    api_url,
    board_token,
    first_path_segment,
    html_or_none,
    mapping,
    objects,
    required_text,
)
from scout.jobs.fetching import AtsSession, expect_list, expect_object
from scout.jobs.html_text import description_fields
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
from scout.jobs.results import FetchResult, FetchResultBuilder
from scout.settings import Settings

KIND: Final = "ashby"
_HOSTS = frozenset({"jobs.ashbyhq.com", "api.ashbyhq.com"})


def canonical_board(board: str) -> str:
    return board_token(board, KIND)


def board_from_url(url: httpx.URL) -> str | None:
    if url.host not in _HOSTS:
        return None
    if url.host == "api.ashbyhq.com":
        return first_path_segment(url, after=("posting-api", "job-board"))
    return first_path_segment(url)


async def fetch(board: str, session: AtsSession, settings: Settings) -> FetchResult:
    builder = FetchResultBuilder(KIND, board)
    data = expect_object(
        await session.get_json(
            api_url(settings.ashby_api_url, "posting-api", "job-board", board),
            params={"includeCompensation": "true"},
        ),
        "the job board answer",
        KIND,
    )
    builder.pages = 1
    jobs = expect_list(data.get("jobs"), "jobs", KIND)
    builder.add_each(jobs, lambda job: normalise(job, board))
    return builder.result()


def normalise(raw: Any, board: str) -> Posting | None:
    job = expect_object(raw, "a job", KIND)
    if job.get("isListed") is False:
        return None
    locations = unique_texts(
        [
            job.get("location"),
            *(mapping(place).get("location") for place in objects(job.get("secondaryLocations"))),
        ]
    )
    description_html = html_or_none(job.get("descriptionHtml"))
    remote_flag = job.get("isRemote") if isinstance(job.get("isRemote"), bool) else None
    return Posting(
        ats=KIND,
        board=board,
        external_id=required_text(job, "id"),
        title=required_text(job, "title"),
        url=clean_text(job.get("jobUrl")),
        apply_url=clean_text(job.get("applyUrl")),
        location=display_location(locations),
        locations=locations,
        department=clean_text(job.get("department")),
        team=clean_text(job.get("team")),
        employment_type=parse_employment_type(job.get("employmentType")),
        posted_at=parse_timestamp(job.get("publishedAt")),
        updated_at=parse_timestamp(job.get("updatedAt")),
        **description_fields(description_html, job.get("descriptionPlain")),
        **workplace_fields(parse_workplace_type(job.get("workplaceType")), remote_flag),
        **_salary(mapping(job.get("compensation"))),
    )


def _salary(compensation: dict[str, Any]) -> dict[str, Any]:
    """The widest salary range over all tiers (zones), in the first tier's currency and interval."""
    components = [
        component
        for tier in objects(compensation.get("compensationTiers"))
        for component in objects(tier.get("components"))
        if str(component.get("compensationType", "")).lower() == "salary"
    ]
    if not components:
        return salary_fields(None, None)
    currency, interval = components[0].get("currencyCode"), components[0].get("interval")
    same_unit = [c for c in components if c.get("currencyCode") == currency and c.get("interval") == interval]
    lows = [amount for c in same_unit if (amount := parse_amount(c.get("minValue"))) is not None]
    highs = [amount for c in same_unit if (amount := parse_amount(c.get("maxValue"))) is not None]
    return salary_fields(
        min(lows) if lows else None,
        max(highs) if highs else None,
        currency,
        parse_salary_period(interval),
    )


ADAPTER = AtsAdapter(kind=KIND, canonical_board=canonical_board, board_from_url=board_from_url, fetch=fetch)
