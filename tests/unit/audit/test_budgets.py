"""Budgets: what a budget may say, and the verdict on a scan result."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from scout.audit.axe import summarize_axe
from scout.audit.budget import Budget, evaluate_budget
from scout.audit.result import (
    LighthouseMetrics,
    LighthouseScores,
    LighthouseSummary,
    LighthouseTiming,
    ScanResult,
    Timings,
)
from scout.errors import ErrorInfo


def scanned(*, performance: int | None = 88, lcp: float | None = 2300.0, serious: int = 1) -> ScanResult:
    violations = [
        {"id": f"rule-{n}", "impact": "serious", "help": "h", "nodes": [{"target": ["p"], "html": "<p>"}]}
        for n in range(serious)
    ]
    return ScanResult(
        url="https://shop.example/",
        final_url="https://shop.example/",
        device="mobile",
        status="succeeded",
        error=None,
        lighthouse=LighthouseSummary(
            scores=LighthouseScores(performance=performance, accessibility=100, best_practices=92, seo=None),
            metrics=LighthouseMetrics(largest_contentful_paint_ms=lcp, cumulative_layout_shift=0.02),
            timing=LighthouseTiming(total_ms=6000.0),
            lighthouse_version="12.2.3",
            final_url="https://shop.example/",
        ),
        axe=summarize_axe(json.dumps({"violations": violations}).encode()),
        timings=Timings(total_ms=7000),
    )


def test_a_result_within_every_limit_passes() -> None:
    budget = Budget.model_validate(
        {
            "scores": {"performance": 0.85, "accessibility": 1},
            "metrics": {"largest-contentful-paint": 2500, "cumulative-layout-shift": 0.1},
            "axe": {"critical": 0, "serious": 1},
        }
    )
    verdict = evaluate_budget(budget, scanned())
    assert verdict is not None
    assert (verdict.passed, verdict.failures) == (True, [])


def test_each_limit_a_result_misses_is_a_failure_with_its_limit_and_value() -> None:
    budget = Budget.model_validate(
        {"scores": {"performance": 0.9}, "metrics": {"largest-contentful-paint": 2000}, "axe": {"serious": 0}}
    )
    verdict = evaluate_budget(budget, scanned())
    assert verdict is not None
    assert verdict.passed is False
    assert [failure.model_dump() for failure in verdict.failures] == [
        {"kind": "scores", "key": "performance", "limit": 0.9, "actual": 0.88},
        {"kind": "metrics", "key": "largest-contentful-paint", "limit": 2000, "actual": 2300.0},
        {"kind": "axe", "key": "serious", "limit": 0, "actual": 1},
    ]


def test_a_score_exactly_at_its_minimum_passes() -> None:
    verdict = evaluate_budget(Budget.model_validate({"scores": {"performance": 0.88}}), scanned())
    assert verdict is not None
    assert verdict.passed is True


def test_what_the_scan_could_not_measure_fails_its_limit() -> None:
    # Given a category Lighthouse did not score and a metric it did not measure
    budget = Budget.model_validate({"scores": {"seo": 0.5}, "metrics": {"largest-contentful-paint": 4000}})
    verdict = evaluate_budget(budget, scanned(lcp=None))
    # Then both fail with no actual value: only evidence passes a budget
    assert verdict is not None
    assert [(failure.key, failure.actual) for failure in verdict.failures] == [
        ("seo", None),
        ("largest-contentful-paint", None),
    ]


def test_a_partial_scan_without_lighthouse_fails_its_score_limits() -> None:
    partial = scanned().model_copy(
        update={
            "status": "partial",
            "lighthouse": None,
            "error": ErrorInfo(code="lighthouse_failed", message="x"),
        }
    )
    verdict = evaluate_budget(
        Budget.model_validate({"scores": {"performance": 0.5}, "axe": {"serious": 1}}), partial
    )
    assert verdict is not None
    assert [(failure.key, failure.actual) for failure in verdict.failures] == [("performance", None)]


def test_a_failed_scan_gets_no_verdict() -> None:
    failed = scanned().model_copy(
        update={
            "status": "failed",
            "lighthouse": None,
            "axe": None,
            "error": ErrorInfo(code="timeout", message="x"),
        }
    )
    assert evaluate_budget(Budget.model_validate({"axe": {"critical": 0}}), failed) is None


@pytest.mark.parametrize(
    ("budget", "location"),
    [
        ({"scores": {"perfomance": 0.9}}, ("scores", "perfomance")),
        ({"metrics": {"interactive": 3000}}, ("metrics", "interactive")),
        ({"axe": {"blocker": 0}}, ("axe", "blocker")),
        ({"assertions": {}}, ("assertions",)),
        ({"scores": {"performance": 1.5}}, ("scores", "performance")),
        ({"axe": {"critical": -1}}, ("axe", "critical")),
    ],
)
def test_a_budget_refuses_unknown_keys_and_impossible_limits_by_name(
    budget: dict[str, object], location: tuple[str, ...]
) -> None:
    with pytest.raises(ValidationError) as refused:
        Budget.model_validate(budget)
    assert [tuple(error["loc"]) for error in refused.value.errors()] == [location]


def test_a_budget_keeps_only_the_limits_that_are_set_under_their_public_names() -> None:
    budget = Budget.model_validate(
        {"scores": {"best-practices": 0.9}, "metrics": {"total-blocking-time": 200}}
    )
    assert budget.limits() == {
        "scores": {"best-practices": 0.9},
        "metrics": {"total-blocking-time": 200},
        "axe": {},
    }
    assert Budget.model_validate(budget.limits()) == budget
