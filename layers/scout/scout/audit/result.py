"""The scan result (docs/audit.md), and the artifacts that travel beside it.

``ScanResult`` serialises (``model_dump(mode="json", by_alias=True)``) to exactly the JSON
that the API and ``scout scan --json`` return. Artifacts are kept out of it: they are large,
and the queue worker uploads them separately.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from scout.errors import ErrorInfo

Device = Literal["mobile", "desktop"]


class ScanStatus(StrEnum):
    """Where a scan stands: queued and running while it waits and runs, then how it ended."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"


# What a scan that ran can end as: the status of a scan result.
FinishedStatus = Literal[ScanStatus.SUCCEEDED, ScanStatus.PARTIAL, ScanStatus.FAILED]
Impact = Literal["critical", "serious", "moderate", "minor"]

IMPACTS: tuple[Impact, ...] = ("critical", "serious", "moderate", "minor")
# Lighthouse runs one scan may ask for (the median of up to five, as Lighthouse advises).
MAX_RUNS = 5


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)


class LighthouseScores(_Frozen):
    """Category scores as Lighthouse shows them, 0-100; null when a category could not be scored."""

    performance: int | None
    accessibility: int | None
    best_practices: int | None = Field(alias="best-practices")
    seo: int | None


class LighthouseMetrics(_Frozen):
    """Lighthouse's lab metrics: milliseconds, except the unitless layout shift."""

    first_contentful_paint_ms: float | None = None
    largest_contentful_paint_ms: float | None = None
    total_blocking_time_ms: float | None = None
    cumulative_layout_shift: float | None = None
    speed_index_ms: float | None = None
    time_to_interactive_ms: float | None = None


# The key lab metrics by Lighthouse audit id (as budgets, runs and diffs name them), and the
# LighthouseMetrics field that holds each.
KEY_METRICS: dict[str, str] = {
    "first-contentful-paint": "first_contentful_paint_ms",
    "largest-contentful-paint": "largest_contentful_paint_ms",
    "total-blocking-time": "total_blocking_time_ms",
    "cumulative-layout-shift": "cumulative_layout_shift",
    "speed-index": "speed_index_ms",
}


class LighthouseTiming(_Frozen):
    # Lighthouse's own measure of its run (lhr.timing.total), for comparing run strategies.
    total_ms: float | None


class LighthouseRunRecord(_Frozen):
    """One of a scan's Lighthouse runs: its scores (0-100) and key metrics (by audit id).

    Run 1 scores all four categories; runs after it gather performance only, so their other
    scores are null (docs/audit.md, repeated runs).
    """

    run: int = Field(description="1 for the first run of the scan")
    scores: LighthouseScores = Field(
        description="What this run scored: every category for run 1, performance alone for later runs"
    )
    metrics: dict[str, float | None] = Field(
        description="first-contentful-paint, largest-contentful-paint, total-blocking-time, speed-index "
        "(ms) and cumulative-layout-shift (unitless)"
    )


class LighthouseSummary(_Frozen):
    """The reported run (the median one when there were several) and every run's numbers."""

    scores: LighthouseScores
    metrics: LighthouseMetrics
    timing: LighthouseTiming
    lighthouse_version: str
    final_url: str | None
    warnings: list[str] = Field(default_factory=list)
    median_run: int = Field(
        default=1, description="The run whose report this is (its performance score is the median)"
    )
    runs: list[LighthouseRunRecord] = Field(default_factory=list)


class AxeNode(_Frozen):
    # axe's selector path; a nested list steps into an iframe or a shadow root.
    target: list[str | list[str]]
    html: str


class AxeViolation(_Frozen):
    id: str
    impact: Impact | None
    help: str
    nodes: list[AxeNode]


class AxeCounts(_Frozen):
    """Violated rules by impact (so the counts add up to the number of violations)."""

    critical: int = 0
    serious: int = 0
    moderate: int = 0
    minor: int = 0


class AxeSummary(_Frozen):
    violations: list[AxeViolation]
    counts: AxeCounts


class BudgetFailure(_Frozen):
    kind: Literal["scores", "metrics", "axe"]
    key: str = Field(description="performance, largest-contentful-paint, serious, ...")
    limit: float
    actual: float | None = Field(description="null when the scan could not measure it")


class BudgetVerdict(_Frozen):
    passed: bool
    failures: list[BudgetFailure]


class Timings(_Frozen):
    total_ms: int
    navigation_ms: int | None = None
    lighthouse_ms: int | None = None
    axe_ms: int | None = None


class ScanResult(_Frozen):
    url: str
    final_url: str | None
    device: Device
    status: FinishedStatus
    error: ErrorInfo | None
    lighthouse: LighthouseSummary | None
    axe: AxeSummary | None
    timings: Timings
    # Only when the scan was asked to hold a budget and measured something to hold it to.
    budget: BudgetVerdict | None = None

    def to_json_dict(self) -> dict[str, object]:
        # A scan asked to hold no budget says nothing about one.
        return self.model_dump(
            mode="json", by_alias=True, exclude={"budget"} if self.budget is None else None
        )


@dataclass(frozen=True)
class Artifact:
    name: str
    content_type: str
    body: bytes


@dataclass(frozen=True)
class ScanArtifacts:
    """The large outputs of one scan; any of them is None when its part did not finish."""

    screenshot_png: bytes | None = None
    lighthouse_html: bytes | None = None
    lighthouse_json: bytes | None = None
    axe_json: bytes | None = None

    def __iter__(self) -> Iterator[Artifact]:
        """The artifacts that exist, named as they are stored next to a scan."""
        candidates = (
            ("screenshot.png", "image/png", self.screenshot_png),
            ("lighthouse.html", "text/html; charset=utf-8", self.lighthouse_html),
            ("lighthouse.json", "application/json", self.lighthouse_json),
            ("axe.json", "application/json", self.axe_json),
        )
        for name, content_type, body in candidates:
            if body is not None:
                yield Artifact(name, content_type, body)


@dataclass(frozen=True)
class ScanOutcome:
    result: ScanResult
    artifacts: ScanArtifacts
