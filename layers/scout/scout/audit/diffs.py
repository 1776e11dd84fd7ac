"""What changed between two scans of a page: score and metric deltas, axe violations new,
fixed and still there, and the regressions among those changes.

Scores are compared on Lighthouse's own 0-1 scale (the scale of budgets and of the
threshold); a result shows them 0-100. A violation is one rule failing on one element: the
rule id and the element's axe target selector name it, so the same rule fixed on one image
and broken on another shows as one fixed and one new.
"""

from __future__ import annotations

import json
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from scout.audit.result import IMPACTS, KEY_METRICS, Device, Impact

DEFAULT_REGRESSION_THRESHOLD = 0.05
SCORE_KEYS = ("performance", "accessibility", "best-practices", "seo")
# New violations of these impacts are regressions on their own.
REGRESSING_IMPACTS: frozenset[str] = frozenset({"critical", "serious"})


class Change(BaseModel):
    before: float | None
    after: float | None
    delta: float | None = Field(description="after - before; null when either is missing")


class ViolationAt(BaseModel):
    id: str = Field(description="The axe rule id")
    target: list[str | list[str]] = Field(description="axe's selector of the element")
    impact: Impact | None
    help: str


class AxeChanges(BaseModel):
    new: list[ViolationAt]
    fixed: list[ViolationAt]
    still: list[ViolationAt]


class Regression(BaseModel):
    kind: Literal["score", "violation"]
    key: str = Field(description="The score's category, or the new violation's rule id")
    message: str
    delta: float | None = Field(default=None, description="The score's drop (negative), for a score")
    impact: Impact | None = Field(default=None, description="The new violation's impact")
    target: list[str | list[str]] | None = Field(default=None, description="The new violation's element")


class ScanDiff(BaseModel):
    scan_id: UUID
    against_id: UUID = Field(description="The earlier scan this one is compared with")
    url: str
    device: Device
    threshold: float = Field(description="A score drop beyond this (0-1) is a regression")
    scores: dict[str, Change] = Field(description="performance, accessibility, best-practices, seo on 0-1")
    metrics: dict[str, Change] = Field(
        description="first-contentful-paint, largest-contentful-paint, total-blocking-time, speed-index "
        "(ms), cumulative-layout-shift"
    )
    axe: AxeChanges | None = Field(description="null when either scan has no axe result")
    regression: bool
    regressions: list[Regression]


def compare_scans(scan: dict[str, Any], against: dict[str, Any], *, threshold: float) -> ScanDiff:
    """The diff of ``scan`` against the earlier ``against`` (stored scans as the store returns them)."""
    scores = {key: _change(_score(against, key), _score(scan, key)) for key in SCORE_KEYS}
    metrics = {key: _change(_metric(against, key), _metric(scan, key)) for key in KEY_METRICS}
    axe = _axe_changes(against.get("axe"), scan.get("axe"))
    regressions = [
        Regression(
            kind="score",
            key=key,
            delta=change.delta,
            message=f"{key} fell from {change.before:.2f} to {change.after:.2f}, "
            f"more than the threshold of {threshold:g}.",
        )
        for key, change in scores.items()
        if change.delta is not None
        and change.before is not None
        and change.after is not None
        and -change.delta > threshold + 1e-9
    ]
    for violation in axe.new if axe else []:
        if violation.impact in REGRESSING_IMPACTS:
            regressions.append(
                Regression(
                    kind="violation",
                    key=violation.id,
                    impact=violation.impact,
                    target=violation.target,
                    message=f"new {violation.impact} violation {violation.id} "
                    f"on {_selector(violation.target)}: {violation.help}",
                )
            )
    return ScanDiff(
        scan_id=scan["id"],
        against_id=against["id"],
        url=scan["url"],
        device=scan["device"],
        threshold=threshold,
        scores=scores,
        metrics=metrics,
        axe=axe,
        regression=bool(regressions),
        regressions=regressions,
    )


def _change(before: float | None, after: float | None) -> Change:
    delta = None if before is None or after is None else round(after - before, 6)
    return Change(before=before, after=after, delta=delta)


def _score(scan: dict[str, Any], key: str) -> float | None:
    shown = ((scan.get("lighthouse") or {}).get("scores") or {}).get(key)
    return None if shown is None else shown / 100


def _metric(scan: dict[str, Any], key: str) -> float | None:
    value = ((scan.get("lighthouse") or {}).get("metrics") or {}).get(KEY_METRICS[key])
    return None if value is None else float(value)


def _axe_changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> AxeChanges | None:
    if not before or not after:
        return None
    earlier, later = _violations_at(before), _violations_at(after)
    return AxeChanges(
        new=[violation for key, violation in later.items() if key not in earlier],
        fixed=[violation for key, violation in earlier.items() if key not in later],
        still=[violation for key, violation in later.items() if key in earlier],
    )


def _violations_at(axe: dict[str, Any]) -> dict[tuple[str, str], ViolationAt]:
    """Each (rule, element) once, most severe impact order first, as axe listed them."""
    found: dict[tuple[str, str], ViolationAt] = {}
    violations = sorted(axe.get("violations") or [], key=lambda item: _impact_rank(item.get("impact")))
    for violation in violations:
        # A rule listed without elements still counts once, on no element.
        for node in violation.get("nodes") or [{"target": []}]:
            target = node.get("target") or []
            key = (violation["id"], json.dumps(target))
            found.setdefault(
                key,
                ViolationAt(
                    id=violation["id"], target=target, impact=violation.get("impact"), help=violation["help"]
                ),
            )
    return found


def _impact_rank(impact: str | None) -> int:
    return IMPACTS.index(impact) if impact in IMPACTS else len(IMPACTS)


def _selector(target: list[str | list[str]]) -> str:
    return " >>> ".join(part if isinstance(part, str) else " >>> ".join(part) for part in target)
