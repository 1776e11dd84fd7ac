"""Comparing two stored scans: what counts as new, fixed and still there, and as a regression."""

from __future__ import annotations

from typing import Any

from scout.audit.diffs import compare_scans


def stored(
    scan_id: str, violations: list[dict[str, Any]] | None, performance: int | None = 90
) -> dict[str, Any]:
    return {
        "id": scan_id,
        "url": "https://shop.example/",
        "device": "mobile",
        "lighthouse": {"scores": {"performance": performance}, "metrics": {"speed_index_ms": 2000}},
        "axe": None if violations is None else {"violations": violations},
    }


def rule(rule_id: str, impact: str, *targets: list[Any]) -> dict[str, Any]:
    return {
        "id": rule_id,
        "impact": impact,
        "help": f"{rule_id} help",
        "nodes": [{"target": t} for t in targets],
    }


EARLIER = "00000000-0000-4000-8000-000000000001"
LATER = "00000000-0000-4000-8000-000000000002"


def test_the_same_rule_on_another_element_is_one_fixed_and_one_new() -> None:
    before = stored(EARLIER, [rule("image-alt", "critical", ["img.logo"])])
    after = stored(LATER, [rule("image-alt", "critical", ["img.hero"])])
    diff = compare_scans(after, before, threshold=0.05)
    assert diff.axe is not None
    assert [(v.id, v.target) for v in diff.axe.new] == [("image-alt", ["img.hero"])]
    assert [(v.id, v.target) for v in diff.axe.fixed] == [("image-alt", ["img.logo"])]
    assert diff.axe.still == []


def test_an_element_inside_a_frame_is_told_apart_by_its_whole_selector_path() -> None:
    before = stored(EARLIER, [rule("label", "serious", [["iframe#pay"], "input"])])
    after = stored(
        LATER, [rule("label", "serious", [["iframe#pay"], "input"]), rule("label", "serious", ["input"])]
    )
    diff = compare_scans(after, before, threshold=0.05)
    assert diff.axe is not None
    assert [v.target for v in diff.axe.still] == [[["iframe#pay"], "input"]]
    assert [v.target for v in diff.axe.new] == [["input"]]


def test_only_new_critical_or_serious_violations_are_regressions() -> None:
    before = stored(EARLIER, [])
    after = stored(LATER, [rule("region", "moderate", ["footer"]), rule("list", "minor", ["ul"])])
    diff = compare_scans(after, before, threshold=0.05)
    assert diff.axe is not None
    assert len(diff.axe.new) == 2
    assert (diff.regression, diff.regressions) == (False, [])


def test_a_rule_listed_without_elements_still_counts_once() -> None:
    diff = compare_scans(
        stored(LATER, [rule("document-title", "serious")]), stored(EARLIER, []), threshold=0.05
    )
    assert diff.axe is not None
    assert [(v.id, v.target) for v in diff.axe.new] == [("document-title", [])]
    assert [r.key for r in diff.regressions] == ["document-title"]


def test_a_scan_without_axe_results_has_no_violation_changes_and_an_unscored_category_no_delta() -> None:
    diff = compare_scans(stored(LATER, None, performance=None), stored(EARLIER, []), threshold=0.05)
    assert diff.axe is None
    assert diff.scores["performance"].model_dump() == {"before": 0.9, "after": None, "delta": None}
    assert diff.metrics["speed-index"].delta == 0
    assert diff.regression is False
