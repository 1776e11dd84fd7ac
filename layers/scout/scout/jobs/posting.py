"""The normalised job posting every ATS adapter produces (field names: README.md, HTTP API)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator

from scout.jobs.safe_html import sanitise_html

AtsKind = Literal["greenhouse", "lever", "ashby", "workday", "smartrecruiters", "jsonld"]
ATS_KINDS: tuple[AtsKind, ...] = ("greenhouse", "lever", "ashby", "workday", "smartrecruiters", "jsonld")

WorkplaceType = Literal["remote", "hybrid", "onsite"]
EmploymentType = Literal["full_time", "part_time", "contract", "temporary", "intern"]
SalaryPeriod = Literal["year", "month", "week", "day", "hour"]

# What one period's pay comes to over a year of full-time work (40-hour weeks, 5-day weeks).
PERIODS_PER_YEAR: dict[str, int] = {"year": 1, "month": 12, "week": 52, "day": 260, "hour": 2080}


class Posting(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    ats: AtsKind
    board: str = Field(min_length=1)
    external_id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    url: str | None = None
    apply_url: str | None = None
    location: str | None = None
    locations: list[str] = Field(default_factory=list)
    workplace_type: WorkplaceType | None = None
    remote: bool | None = None
    department: str | None = None
    team: str | None = None
    employment_type: EmploymentType | None = None
    posted_at: datetime | None = None
    updated_at: datetime | None = None
    description_html: str | None = None
    description_text: str | None = None
    salary_min: float | None = Field(default=None, ge=0)
    salary_max: float | None = Field(default=None, ge=0)
    salary_currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    salary_period: SalaryPeriod | None = None
    # The stated range annualised, so salaries stated per hour and per year compare like with
    # like; derived from the four fields above on every validation, never given by an adapter.
    salary_year_min: float | None = None
    salary_year_max: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _annualise_salary(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        periods = PERIODS_PER_YEAR.get(data.get("salary_period") or "")
        low, high = data.get("salary_min"), data.get("salary_max")
        return {
            **data,
            "salary_year_min": _times(low, periods),
            "salary_year_max": _times(high, periods),
        }

    @field_validator("description_html", mode="before")
    @classmethod
    def _safe_html(cls, value: Any) -> Any:
        # Adapters hand over HTML that description_fields() sanitised; anything else is sanitised here.
        return sanitise_html(value) if isinstance(value, str) else value

    @field_validator("posted_at", "updated_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must carry a time zone")
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _salary_range_in_order(self) -> Posting:
        if self.salary_min is not None and self.salary_max is not None and self.salary_min > self.salary_max:
            raise ValueError("salary_min is above salary_max")
        return self

    @field_serializer("posted_at", "updated_at")
    def _iso_utc(self, value: datetime | None) -> str | None:
        return None if value is None else value.isoformat().replace("+00:00", "Z")

    @field_serializer("salary_min", "salary_max", "salary_year_min", "salary_year_max")
    def _whole_amounts_as_integers(self, value: float | None) -> float | int | None:
        if value is not None and value.is_integer():
            return int(value)
        return value


def _times(amount: Any, periods: int | None) -> float | None:
    if periods is None or isinstance(amount, bool) or not isinstance(amount, int | float):
        return None
    return round(float(amount) * periods, 2)
