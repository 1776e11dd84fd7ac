"""What the audit API takes and answers, as pydantic models."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from scout.audit.budget import Budget
from scout.audit.result import MAX_RUNS, BudgetVerdict, Device, ScanStatus
from scout.cursors import Page
from scout.egress.urls import MAX_URL_LENGTH
from scout.errors import ErrorInfo


class ScanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=1, max_length=MAX_URL_LENGTH, description="The page to audit (http or https)."
    )
    device: Device = Field(default="mobile", description="Emulated device for Lighthouse and axe.")
    runs: int = Field(
        default=1,
        ge=1,
        le=MAX_RUNS,
        description="Lighthouse runs (axe runs once); the result reports the run with the median "
        "performance score and keeps every run's scores and key metrics in lighthouse.runs.",
    )
    budget: Budget | None = Field(
        default=None,
        description="Limits the result is judged against: scores as 0-1 minimums, metrics as maximums "
        "(ms; cumulative-layout-shift unitless), axe counts as maximums by impact. Unknown keys are refused.",
    )


class ArtifactOut(BaseModel):
    name: str = Field(description="screenshot.png, lighthouse.html, lighthouse.json or axe.json")
    content_type: str
    size_bytes: int
    url: str = Field(description="A presigned GET link; it stops working at expires_at.")
    expires_at: datetime


class Scan(BaseModel):
    """A scan as POST /scans answers it."""

    id: UUID
    url: str
    device: Device
    status: ScanStatus
    created_at: datetime


class ScanSummary(Scan):
    """A scan in a list: where it stands, without the full result."""

    final_url: str | None
    error: ErrorInfo | None
    started_at: datetime | None
    finished_at: datetime | None


class ScanFindings(ScanSummary):
    """A scan with what the engine found, as the store keeps it."""

    # Kept as the engine wrote them when the scan finished: a scan stored by an older engine
    # is still served as it was, never refused for a newer shape.
    lighthouse: dict[str, Any] | None = Field(
        description="Lighthouse summary of the reported run: scores (performance, accessibility, "
        "best-practices, seo; 0-100), metrics, timing, lighthouse_version, final_url, warnings; "
        "median_run (the run reported: its performance score is the median) and runs, every run's "
        "{run, scores (0-100), metrics {first-contentful-paint, largest-contentful-paint, "
        "total-blocking-time, speed-index (ms), cumulative-layout-shift}}; "
        "null when Lighthouse did not finish."
    )
    axe: dict[str, Any] | None = Field(
        description="axe-core: violations [{id, impact, help, nodes: [{target, html}]}] and counts "
        "by impact; null when the page audit did not finish."
    )
    timings: dict[str, Any] | None = Field(description="total_ms, navigation_ms, lighthouse_ms, axe_ms")
    runs: int = Field(default=1, description="Lighthouse runs asked for")
    budget_limits: dict[str, Any] | None = Field(
        default=None, description="The budget the scan was asked to hold (only the limits that were set)"
    )
    budget: BudgetVerdict | None = Field(
        default=None,
        description="The verdict on the budget: passed, and each failure {kind, key, limit, actual}; "
        "null without a budget or when the scan failed",
    )


class ScanDetail(ScanFindings):
    """GET /scans/{scan_id}: the scan result and links to the artifacts."""

    artifacts: list[ArtifactOut]


class ScanPage(Page[ScanSummary]):
    """Scans, newest first."""
