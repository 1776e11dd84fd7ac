"""Budgets a scan is held to, and the verdict that goes into its result.

Scores are minimums on Lighthouse's own 0-1 scale (the result shows them 0-100), metrics are
maximums in milliseconds (cumulative-layout-shift unitless), axe counts are maximums of
violated rules by impact: the shape of a Lighthouse CI assertion, narrowed to what a scan
measures. An unknown key is refused by name rather than ignored: a misspelt budget that
silently passes is worse than none.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from scout.audit.result import KEY_METRICS, BudgetFailure, BudgetVerdict, ScanResult


class _BudgetPart(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _score() -> float | None:
    return Field(default=None, ge=0, le=1)


class ScoreBudget(_BudgetPart):
    """Minimum category scores, 0-1."""

    performance: float | None = _score()
    accessibility: float | None = _score()
    best_practices: float | None = Field(default=None, ge=0, le=1, alias="best-practices")
    seo: float | None = _score()


class MetricBudget(_BudgetPart):
    """Maximum lab metrics: milliseconds, except the unitless cumulative-layout-shift."""

    first_contentful_paint: float | None = Field(default=None, ge=0, alias="first-contentful-paint")
    largest_contentful_paint: float | None = Field(default=None, ge=0, alias="largest-contentful-paint")
    total_blocking_time: float | None = Field(default=None, ge=0, alias="total-blocking-time")
    cumulative_layout_shift: float | None = Field(default=None, ge=0, alias="cumulative-layout-shift")
    speed_index: float | None = Field(default=None, ge=0, alias="speed-index")


class AxeBudget(_BudgetPart):
    """Maximum numbers of violated axe rules, by impact."""

    critical: int | None = Field(default=None, ge=0)
    serious: int | None = Field(default=None, ge=0)
    moderate: int | None = Field(default=None, ge=0)
    minor: int | None = Field(default=None, ge=0)


class Budget(_BudgetPart):
    scores: ScoreBudget = Field(default_factory=ScoreBudget)
    metrics: MetricBudget = Field(default_factory=MetricBudget)
    axe: AxeBudget = Field(default_factory=AxeBudget)

    def limits(self) -> dict[str, dict[str, float]]:
        """The limits that are set, under their public names (as stored with a scan)."""
        return {
            part: {key: value for key, value in values.items() if value is not None}
            for part, values in self.model_dump(by_alias=True).items()
        }


def evaluate_budget(budget: Budget, result: ScanResult) -> BudgetVerdict | None:
    """The verdict on ``result``; None when the scan failed and measured nothing.

    A limit the scan could not measure (Lighthouse or axe did not finish, a category was not
    scored) fails with ``actual`` null: a budget is only passed by evidence.
    """
    if result.lighthouse is None and result.axe is None:
        return None
    limits = budget.limits()
    failures: list[BudgetFailure] = []
    lighthouse = result.lighthouse
    scores = lighthouse.scores.model_dump(by_alias=True) if lighthouse else {}
    for key, minimum in limits["scores"].items():
        shown = scores.get(key)
        actual = None if shown is None else shown / 100
        if actual is None or actual < minimum:
            failures.append(BudgetFailure(kind="scores", key=key, limit=minimum, actual=actual))
    metrics = lighthouse.metrics.model_dump() if lighthouse else {}
    for key, maximum in limits["metrics"].items():
        measured = metrics.get(KEY_METRICS[key])
        if measured is None or measured > maximum:
            failures.append(BudgetFailure(kind="metrics", key=key, limit=maximum, actual=measured))
    counts = result.axe.counts.model_dump() if result.axe else {}
    for key, maximum in limits["axe"].items():
        counted = counts.get(key)
        if counted is None or counted > maximum:
            failures.append(BudgetFailure(kind="axe", key=key, limit=maximum, actual=counted))
    return BudgetVerdict(passed=not failures, failures=failures)
