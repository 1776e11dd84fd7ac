"""What the jobs API takes and answers (DESIGN §5 shapes), as pydantic models.

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

from scout.jobs.posting import AtsKind, EmploymentType, Posting, WorkplaceType
from scout.store.values import StorableTimestamp


def _iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# Every timestamp the API answers is ISO 8601 in UTC with a "Z", like a posting's own.
Timestamp = Annotated[AwareDatetime, PlainSerializer(_iso_utc, return_type=str, when_used="json")]

MAX_PAGE_SIZE = 100


class ErrorInfo(BaseModel):
    code: str
    message: str


# ---- jobs and companies ------------------------------------------------------------------


class Job(Posting):
    """A posting as scout keeps it: the normalised fields plus where and when scout saw it."""

    id: UUID
    source_id: UUID
    company: str
    first_seen_at: Timestamp
    last_seen_at: Timestamp
    archived_at: Timestamp | None = None


class JobPage(BaseModel):
    items: list[Job]
    next_cursor: str | None = None


class JobQuery(BaseModel):
    """What GET /jobs asks for (the route documents each field)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    q: str | None = Field(default=None, max_length=500)
    company: str | None = Field(default=None, max_length=200)
    ats: AtsKind | None = None
    location: str | None = Field(default=None, max_length=200)
    workplace_type: WorkplaceType | None = None
    remote: bool | None = None
    department: str | None = Field(default=None, max_length=200)
    employment_type: EmploymentType | None = None
    posted_after: StorableTimestamp | None = None
    salary_min: float | None = Field(default=None, ge=0)
    include_archived: bool = False
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=20, ge=1, le=MAX_PAGE_SIZE)


class Company(BaseModel):
    company: str
    active_postings: int
    sources: int = Field(description="How many job boards scout polls for this company.")


class CompanyPage(BaseModel):
    items: list[Company]
    next_cursor: str | None = None


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


class SourcePage(BaseModel):
    items: list[Source]
    next_cursor: str | None = None


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


class PollRunPage(BaseModel):
    items: list[PollRun]
    next_cursor: str | None = None


class PollQueued(BaseModel):
    source_id: UUID
    status: Literal["queued"] = "queued"
