"""What the jobs API takes and answers (README.md, HTTP API), as pydantic models.

Responses are built from the JSON the SQL functions return, so these models are also the
check that the database answers what the API promises.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from scout.cursors import Page
from scout.errors import ErrorInfo
from scout.jobs.posting import AtsKind, EmploymentType, Posting, WorkplaceType
from scout.store.values import StorableTimestamp


def _iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# Every timestamp the API answers is ISO 8601 in UTC with a "Z", like a posting's own.
Timestamp = Annotated[AwareDatetime, PlainSerializer(_iso_utc, return_type=str, when_used="json")]

MAX_PAGE_SIZE = 100
CURSOR_DESCRIPTION = "next_cursor of the previous page."


# ---- jobs and companies ------------------------------------------------------------------


class Job(Posting):
    """A posting as scout keeps it: the normalised fields plus where and when scout saw it."""

    id: UUID
    source_id: UUID
    company: str
    first_seen_at: Timestamp
    last_seen_at: Timestamp = Field(
        description="When the latest successful poll that listed this posting ran (docs/jobs.md)."
    )
    archived_at: Timestamp | None = None


class JobPage(Page[Job]):
    """Postings, newest first."""


JobSort = Literal["relevance", "newest"]


class JobQuery(BaseModel):
    """GET /jobs: every query parameter, declared once (the route expands it, the store reads it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    q: str | None = Field(
        default=None,
        max_length=500,
        description="Full-text search over title, department, team, location and description "
        "(web-search syntax, accents ignored). One or two plain words also match the title words "
        "the last begins, mistyped title words and company names.",
    )
    company: str | None = Field(
        default=None, max_length=200, description="Company name, any case, accents and punctuation ignored."
    )
    ats: AtsKind | None = Field(default=None, description="The ATS the posting comes from.")
    location: str | None = Field(
        default=None,
        max_length=200,
        description="Words starting the words of one of the posting's locations, in order, any case, "
        "accents ignored (san fran finds San Francisco, CA).",
    )
    workplace_type: WorkplaceType | None = Field(default=None, description="remote, hybrid or onsite.")
    remote: bool | None = Field(
        default=None, description="Whether the posting says it is remote, by its flag or its workplace type."
    )
    department: str | None = Field(default=None, max_length=200, description="Department name, any case.")
    employment_type: EmploymentType | None = Field(
        default=None, description="full_time, part_time, contract, temporary or intern."
    )
    posted_after: StorableTimestamp | None = Field(
        default=None, description="Only postings published at or after this time (ISO 8601 with a zone)."
    )
    salary_min: float | None = Field(
        default=None,
        ge=0,
        description="Only postings whose advertised salary, annualised (hour x 2080, day x 260, week x 52, "
        "month x 12), reaches this yearly amount (in their own currency; see salary_currency).",
    )
    salary_currency: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z]{3}$",
        description="Only postings paying in this ISO 4217 currency (EUR, USD ...), any case.",
    )
    include_archived: bool = Field(default=False, description="Include postings that are no longer listed.")
    sort: JobSort | None = Field(
        default=None,
        description="relevance (the default with q): the company q names, then matches in the title, in "
        "department or team, in a location, in the description only, then matches older than 60 days; "
        "newest first within each. newest (the default without q): newest first.",
    )
    cursor: str | None = Field(default=None, max_length=500, description=CURSOR_DESCRIPTION)
    limit: int = Field(default=20, ge=1, le=MAX_PAGE_SIZE, description=f"Page size, at most {MAX_PAGE_SIZE}.")


class Company(BaseModel):
    company: str
    active_postings: int
    sources: int = Field(description="How many job boards scout polls for this company.")


class CompanyPage(Page[Company]):
    """Companies by name."""


# ---- sources and their poll runs ------------------------------------------------------------


class Source(BaseModel):
    id: UUID
    ats: AtsKind
    board: str
    company: str
    enabled: bool
    poll_interval_minutes: int
    active_postings: int
    last_polled_at: Timestamp | None = None
    last_success_at: Timestamp | None = None
    last_error: ErrorInfo | None = None
    consecutive_failures: int
    next_poll_at: Timestamp
    created_at: Timestamp


class SourcePage(Page[Source]):
    """Sources by company."""


class NewSource(BaseModel):
    """POST /sources: a careers URL to recognise, or an explicit ATS kind and board."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=1, max_length=2048)
    ats: AtsKind | None = None
    board: str | None = Field(default=None, min_length=1, max_length=2048)
    company: str | None = Field(default=None, max_length=200)

    @field_validator("company")
    @classmethod
    def _company_named(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("company must not be blank")
        return value.strip() if value is not None else None

    @model_validator(mode="after")
    def _url_or_board(self) -> NewSource:
        if self.url is not None and (self.ats is not None or self.board is not None):
            raise ValueError("give either url, or ats and board, not both")
        if self.url is None and (self.ats is None or self.board is None):
            raise ValueError("give url, or both ats and board")
        return self


class SourceChanges(BaseModel):
    """PATCH /sources/{source_id}: any of these; the board itself never changes."""

    model_config = ConfigDict(extra="forbid")

    company: str | None = Field(default=None, min_length=1, max_length=200)
    enabled: bool | None = None
    poll_interval_minutes: int | None = Field(default=None, ge=5, le=7 * 24 * 60)

    @model_validator(mode="after")
    def _something_to_change(self) -> SourceChanges:
        if not self.model_fields_set or all(getattr(self, name) is None for name in self.model_fields_set):
            raise ValueError("give at least one of company, enabled, poll_interval_minutes")
        return self

    def as_changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class PollRun(BaseModel):
    id: UUID
    source_id: UUID
    status: Literal["running", "succeeded", "failed"] = Field(
        description="running from its claim until a worker records it; failed with error worker_lost "
        "when its worker died (the retry is a run of its own)"
    )
    complete: bool
    fetched: int
    upserted: int
    archived: int
    relisted: int
    guard: str | None = Field(default=None, description="The guard that held archiving back, if any.")
    error: ErrorInfo | None = None
    started_at: Timestamp
    finished_at: Timestamp | None = Field(default=None, description="null while running")


class PollRunPage(Page[PollRun]):
    """A source's poll runs, newest first."""


class PollQueued(BaseModel):
    source_id: UUID
    status: Literal["queued"] = "queued"
