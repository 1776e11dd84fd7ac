"""Several Lighthouse runs reported as one: the run whose performance score is the median."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scout.audit.lighthouse import LighthouseRun, LighthouseRunSummary
from scout.audit.repeated_runs import NumberedRun, combine_reports, median_position, report_runs, run_scope

OTHER_SCORES = {"accessibility": 0.9, "best-practices": 1, "seo": 0.8}


def run(performance: float | None, fcp: float, *, marker: bytes = b"", full: bool = True) -> LighthouseRun:
    others = OTHER_SCORES if full else dict.fromkeys(OTHER_SCORES)
    summary = LighthouseRunSummary.from_worker(
        {
            "lighthouseVersion": "12.2.3",
            "finalDisplayedUrl": "https://shop.example/",
            "scores": {"performance": performance, **others},
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
    assert chosen.run.report_html == b"<html>3"
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


def test_a_scans_first_run_gathers_everything_and_the_later_ones_performance() -> None:
    assert [run_scope(number) for number in (1, 2, 3, 5)] == [
        "full",
        "performance",
        "performance",
        "performance",
    ]


def test_a_performance_run_as_median_takes_the_other_scores_from_the_full_run() -> None:
    # Given a full first run and two performance runs, the median (0.75) being run 3
    runs = [
        NumberedRun(1, run(0.9, 800.0)),
        NumberedRun(2, run(0.6, 1400.0, full=False), "performance"),
        NumberedRun(3, run(0.75, 1000.0, full=False), "performance"),
    ]
    # When they are reported
    chosen, summary = report_runs(runs)
    # Then the scan's scores are run 3's performance and run 1's other categories
    assert chosen.number == 3
    assert summary.scores.model_dump(by_alias=True) == {
        "performance": 75,
        "accessibility": 90,
        "best-practices": 100,
        "seo": 80,
    }
    assert summary.metrics.first_contentful_paint_ms == 1000.0
    # And each run's record keeps only what that run measured
    assert summary.runs[2].scores.performance == 75
    assert summary.runs[2].scores.accessibility is None
    assert summary.runs[0].scores.accessibility == 90


def lhr(**parts: Any) -> dict[str, Any]:
    return {
        "lighthouseVersion": "12.2.3",
        "runWarnings": [],
        "i18n": {"rendererFormattedStrings": {}, "icuMessagePaths": {}},
        **parts,
    }


def category(category_id: str, score: float, *audit_ids: str) -> dict[str, Any]:
    return {
        "id": category_id,
        "score": score,
        "auditRefs": [{"id": audit_id, "weight": 1} for audit_id in audit_ids],
    }


def test_a_combined_report_has_the_medians_performance_and_the_full_runs_other_categories() -> None:
    # Given a full run, and a performance run without the other categories, the
    # back/forward-cache check or a screenshot
    full = lhr(
        categories={
            "performance": category("performance", 0.9, "first-contentful-paint", "bf-cache"),
            "accessibility": category("accessibility", 0.8, "image-alt"),
            "seo": category("seo", 0.7, "document-title"),
        },
        audits={
            "first-contentful-paint": {"id": "first-contentful-paint", "numericValue": 800},
            "bf-cache": {"id": "bf-cache", "score": 1},
            "image-alt": {"id": "image-alt", "score": 0},
            "document-title": {"id": "document-title", "score": 1},
        },
        categoryGroups={"a11y-names-labels": {"title": "Names and labels"}},
        fullPageScreenshot={"screenshot": {"data": "data:image/webp;base64,AAAA"}, "nodes": {}},
        entities=[{"name": "shop.example"}, {"name": "fonts.example"}],
        i18n={
            "icuMessagePaths": {
                "fcp | title": ["audits[first-contentful-paint].title"],
                "image-alt | title": ["audits[image-alt].title"],
                "a11y | title": ["categories[accessibility].title"],
            }
        },
    )
    performance = lhr(
        categories={"performance": category("performance", 0.6, "first-contentful-paint")},
        audits={"first-contentful-paint": {"id": "first-contentful-paint", "numericValue": 1400}},
        configSettings={"onlyCategories": ["performance"]},
        entities=[{"name": "shop.example"}],
        i18n={"icuMessagePaths": {"fcp | title": ["audits[first-contentful-paint].title"]}},
    )
    # When they are combined
    combined = json.loads(
        combine_reports(
            json.dumps(full).encode(), json.dumps(performance).encode(), full_number=1, performance_number=2
        )
    )
    # Then performance and its audits are the performance run's, the rest the full run's
    assert {key: value["score"] for key, value in combined["categories"].items()} == {
        "performance": 0.6,
        "accessibility": 0.8,
        "seo": 0.7,
    }
    assert combined["audits"]["first-contentful-paint"]["numericValue"] == 1400
    assert combined["audits"]["image-alt"] == {"id": "image-alt", "score": 0}
    assert set(combined["audits"]) == {"first-contentful-paint", "bf-cache", "image-alt", "document-title"}
    # And the check the performance run skipped is the full run's, listed where it was
    assert combined["audits"]["bf-cache"] == {"id": "bf-cache", "score": 1}
    assert [ref["id"] for ref in combined["categories"]["performance"]["auditRefs"]] == [
        "first-contentful-paint",
        "bf-cache",
    ]
    # And the groups, the screenshot and the entities those parts use come along
    assert combined["categoryGroups"] == full["categoryGroups"]
    assert combined["fullPageScreenshot"] == full["fullPageScreenshot"]
    assert [entity["name"] for entity in combined["entities"]] == ["shop.example", "fonts.example"]
    # And message paths point into the combined parts, without a second copy for performance
    assert combined["i18n"]["icuMessagePaths"] == {
        "fcp | title": ["audits[first-contentful-paint].title"],
        "image-alt | title": ["audits[image-alt].title"],
        "a11y | title": ["categories[accessibility].title"],
    }
    # And the report says which run each part comes from
    assert combined["runWarnings"] == [
        "This report combines two runs of the page: performance from run 2 (the median "
        "performance score), accessibility, best practices and SEO from run 1, which also "
        "took the full-page screenshot and checked the back/forward cache."
    ]
    assert combined["configSettings"] == {"onlyCategories": ["performance"]}
