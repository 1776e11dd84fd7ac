"""Several Lighthouse runs reported as one: the run whose performance score is the median."""

from __future__ import annotations

import pytest

from scout.audit.lighthouse import LighthouseRun, LighthouseRunSummary
from scout.audit.repeated_runs import NumberedRun, median_position, report_runs


def run(performance: float | None, fcp: float, *, marker: bytes = b"") -> LighthouseRun:
    summary = LighthouseRunSummary.from_worker(
        {
            "lighthouseVersion": "12.2.3",
            "finalDisplayedUrl": "https://shop.example/",
            "scores": {"performance": performance, "accessibility": 0.9, "best-practices": 1, "seo": 0.8},
            "metrics": {
                "first-contentful-paint": fcp,
                "largest-contentful-paint": fcp * 2,
                "interactive": 9000,
            },
            "timing": {"total": 6000},
            "runWarnings": [],
        }
    )
    return LighthouseRun(summary=summary, report_json=b"{}" + marker, report_html=b"<html>" + marker)


@pytest.mark.parametrize(
    ("scores", "median"),
    [
        ([0.81], 0),
        ([0.9, 0.5, 0.7], 2),
        ([0.5, 0.9, 0.7, 0.6], 3),  # even: the lower middle (0.6), never the flattering one
        ([0.7, 0.7, 0.7], 1),  # equal scores keep their run order: the middle run
        ([None, 0.4, 0.8], 1),  # an unscored run is passed over
        ([None, None], 0),
    ],
)
def test_the_reported_run_has_the_median_performance_score(scores: list[float | None], median: int) -> None:
    assert median_position(scores) == median


def test_the_median_runs_report_and_every_runs_numbers_are_kept() -> None:
    # Given three runs with performance 0.9, 0.6 and 0.75
    runs = [
        NumberedRun(1, run(0.9, 800.0, marker=b"1")),
        NumberedRun(2, run(0.6, 1400.0, marker=b"2")),
        NumberedRun(3, run(0.75, 1000.0, marker=b"3")),
    ]
    # When they are reported
    chosen, summary = report_runs(runs, warnings=["Lighthouse run 4 of 4 failed and is left out: x"])
    # Then the scan reports run 3 (its report files too)
    assert chosen.report_html == b"<html>3"
    assert (summary.median_run, summary.scores.performance) == (3, 75)
    assert summary.metrics.first_contentful_paint_ms == 1000.0
    # And every run's scores and key metrics are kept, in run order
    assert [(record.run, record.scores.performance) for record in summary.runs] == [(1, 90), (2, 60), (3, 75)]
    assert summary.runs[1].metrics == {
        "first-contentful-paint": 1400.0,
        "largest-contentful-paint": 2800.0,
        "total-blocking-time": None,
        "cumulative-layout-shift": None,
        "speed-index": None,
    }
    assert summary.warnings == ["Lighthouse run 4 of 4 failed and is left out: x"]


def test_a_single_run_is_reported_as_run_one_of_one() -> None:
    _, summary = report_runs([NumberedRun(1, run(0.5, 900.0))])
    assert summary.median_run == 1
    assert len(summary.runs) == 1
