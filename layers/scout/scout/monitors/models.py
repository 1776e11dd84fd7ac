"""What the monitors API takes and answers, as pydantic models (docs/monitors.md).

A monitor names its pages either as ``urls`` or as a ``sitemap`` (exactly one), and holds
every scan it plans to the same device, runs and budget as ``POST /scans`` would. Its
schedule is an EventBridge expression, parsed with EventBridge's own rules so that what is
accepted here is what the scheduler can run. The webhook signing secret is never part of
:class:`Monitor`; it appears once, in :class:`CreatedMonitor`, when the monitor is made.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scout.audit.budget import Budget
from scout.audit.result import MAX_RUNS, Device
from scout.cursors import Page
from scout.egress.urls import MAX_URL_LENGTH, parse_target_url
from scout.errors import ErrorInfo, InvalidUrl
from scout.schedule_expressions import (
    ScheduleExpressionError,
    UnsupportedScheduleExpression,
    parse_schedule_expression,
)

DEFAULT_MAX_PAGES = 50
MAX_PAGES = 500
MAX_URLS = MAX_PAGES
MAX_GLOBS = 50
MAX_GLOB_LENGTH = 200

RunStatus = Literal["planning", "running", "finished", "failed"]
RunTrigger = Literal["manual", "schedule"]

Glob = str


def _checked_page_url(url: str) -> str:
    try:
        return parse_target_url(url).url
    except InvalidUrl as exc:
        raise ValueError(exc.message) from None


def _checked_webhook_url(url: str | None) -> str | None:
    if url is None:
        return None
    try:
        target = parse_target_url(url)
    except InvalidUrl as exc:
        raise ValueError(exc.message) from None
    if target.scheme != "https":
        raise ValueError("webhook_url must be an https URL: events are signed, and travel encrypted")
    return target.url


def _checked_schedule(schedule: str | None) -> str | None:
    if schedule is None:
        return None
    try:
        parse_schedule_expression(schedule)
    except (ScheduleExpressionError, UnsupportedScheduleExpression) as exc:
        raise ValueError(f"schedule: {exc}") from None
    return schedule.strip()


def _checked_page_urls(urls: list[str] | None) -> list[str] | None:
    return None if urls is None else [_checked_page_url(url) for url in urls]


def _checked_sitemap(url: str | None) -> str | None:
    return None if url is None else _checked_page_url(url)


def _checked_globs(globs: list[str] | None) -> list[str] | None:
    # The planner's rule (scout.monitors.sitemaps): globs match a page's path.
    for glob in globs or []:
        if not glob.startswith(("/", "*")) or len(glob) > MAX_GLOB_LENGTH:
            raise ValueError(
                f"glob {glob!r} must start with / or * and be at most {MAX_GLOB_LENGTH} characters"
            )
    return globs


class _MonitorFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="What the monitor watches, for people.")
    urls: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_URLS,
        description="The pages to scan (http or https); exactly one of urls and sitemap.",
    )
    sitemap: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_URL_LENGTH,
        description="A sitemap (urlset or sitemapindex, gzip allowed) or a site root whose robots.txt "
        "names its sitemaps; exactly one of urls and sitemap.",
    )
    max_pages: int = Field(
        default=DEFAULT_MAX_PAGES, ge=1, le=MAX_PAGES, description="At most this many pages per run."
    )
    include: list[Glob] = Field(
        default_factory=list, max_length=MAX_GLOBS, description="Only pages whose path matches a glob."
    )
    exclude: list[Glob] = Field(
        default_factory=list, max_length=MAX_GLOBS, description="No page whose path matches a glob."
    )
    device: Device = Field(default="mobile", description="Emulated device of every scan.")
    runs: int = Field(default=1, ge=1, le=MAX_RUNS, description="Lighthouse runs per scan.")
    budget: Budget | None = Field(default=None, description="The budget of every scan (as POST /scans).")
    schedule: str | None = Field(
        default=None,
        max_length=200,
        description="rate(...) or cron(...) as EventBridge writes them (UTC); null: runs only on request.",
    )
    webhook_url: str | None = Field(
        default=None,
        max_length=MAX_URL_LENGTH,
        description="https URL that receives monitor.run.finished and monitor.regression events.",
    )

    _urls = field_validator("urls")(_checked_page_urls)
    _sitemap = field_validator("sitemap")(_checked_sitemap)
    _globs = field_validator("include", "exclude")(_checked_globs)
    _schedule = field_validator("schedule")(_checked_schedule)
    _webhook = field_validator("webhook_url")(_checked_webhook_url)


class MonitorRequest(_MonitorFields):
    """POST /monitors."""

    @model_validator(mode="after")
    def _one_page_source(self) -> MonitorRequest:
        if (self.urls is None) == (self.sitemap is None):
            raise ValueError("give exactly one of urls and sitemap")
        return self


class MonitorPatch(BaseModel):
    """PATCH /monitors/{monitor_id}: the fields given replace the monitor's; others stay.

    Giving ``urls`` drops the sitemap and giving ``sitemap`` drops the urls; changing
    ``webhook_url`` turns a webhook disabled by a 410 back on.
    """

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    urls: list[str] | None = Field(default=None, min_length=1, max_length=MAX_URLS)
    sitemap: str | None = Field(default=None, min_length=1, max_length=MAX_URL_LENGTH)
    max_pages: int | None = Field(default=None, ge=1, le=MAX_PAGES)
    include: list[Glob] | None = Field(default=None, max_length=MAX_GLOBS)
    exclude: list[Glob] | None = Field(default=None, max_length=MAX_GLOBS)
    device: Device | None = None
    runs: int | None = Field(default=None, ge=1, le=MAX_RUNS)
    budget: Budget | None = None
    schedule: str | None = Field(default=None, max_length=200)
    webhook_url: str | None = Field(default=None, max_length=MAX_URL_LENGTH)

    _urls = field_validator("urls")(_checked_page_urls)
    _sitemap = field_validator("sitemap")(_checked_sitemap)
    _globs = field_validator("include", "exclude")(_checked_globs)
    _schedule = field_validator("schedule")(_checked_schedule)
    _webhook = field_validator("webhook_url")(_checked_webhook_url)

    @model_validator(mode="after")
    def _at_most_one_page_source(self) -> MonitorPatch:
        if self.urls is not None and self.sitemap is not None:
            raise ValueError("give at most one of urls and sitemap")
        for field in ("name", "max_pages", "include", "exclude", "device", "runs"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self

    def changes(self) -> dict[str, object]:
        """The fields the request gave (null included, for schedule, budget and webhook_url)."""
        given = self.model_dump(mode="json", by_alias=True, exclude_unset=True)
        if self.budget is not None:
            given["budget"] = self.budget.limits()
        return given


class Monitor(BaseModel):
    """A monitor as the API shows it: never its webhook secret."""

    id: UUID
    name: str
    urls: list[str] | None
    sitemap: str | None
    max_pages: int
    include: list[str]
    exclude: list[str]
    device: Device
    runs: int
    budget: dict[str, object] | None = Field(description="The budget's limits (only those set)")
    schedule: str | None
    next_run_at: datetime | None = Field(description="When the schedule next makes the monitor due")
    webhook_url: str | None
    webhook_disabled_at: datetime | None = Field(
        description="Set when the receiver answered 410 Gone; changing webhook_url turns it back on"
    )
    created_at: datetime
    updated_at: datetime


class CreatedMonitor(Monitor):
    """POST /monitors: the monitor and, this once, the secret its webhooks are signed with."""

    webhook_secret: str = Field(
        description="HMAC-SHA256 key of Scout-Signature: t=<unix>,v1=<hex of HMAC(secret, t + '.' + body)>; "
        "shown only here."
    )


class MonitorRun(BaseModel):
    """One run of a monitor: what was planned and how its scans ended."""

    id: UUID
    monitor_id: UUID
    trigger: RunTrigger
    status: RunStatus
    error: ErrorInfo | None = Field(description="Why planning failed (status failed)")
    pages: list[str] = Field(description="The pages planned, in order")
    pages_planned: int
    pages_scanned: int
    pages_failed: int
    budget_passed: int
    budget_failed: int
    regressions: list[dict[str, object]] = Field(
        description="[{url, scan_id, against, reasons}] against the monitor's previous finished run"
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class MonitorPage(Page[Monitor]):
    """Monitors, newest first."""


class MonitorRunPage(Page[MonitorRun]):
    """A monitor's runs, newest first."""
