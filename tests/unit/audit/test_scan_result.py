"""The scan result's JSON shape and how it is built from Lighthouse and axe output."""

from __future__ import annotations

import json

from scout.audit.axe import MAX_NODES_PER_VIOLATION, summarize_axe
from scout.audit.lighthouse import LighthouseRunSummary
from scout.audit.result import ScanArtifacts, ScanResult, Timings
from scout.errors import ErrorInfo

WORKER_SUMMARY = {
    "lighthouseVersion": "12.2.3",
    "requestedUrl": "https://shop.example/",
    "mainDocumentUrl": "https://shop.example/home",
    "finalDisplayedUrl": "https://shop.example/home",
    "scores": {"performance": 0.874, "accessibility": 0.5, "best-practices": 1, "seo": None},
    "metrics": {"first-contentful-paint": 1200.5, "cumulative-layout-shift": 0.02},
    "timing": {"total": 6240.7},
    "runtimeError": None,
    "runWarnings": ["The page loaded too slowly"],
}


def axe_raw(violations: list[dict[str, object]]) -> bytes:
    return json.dumps({"testEngine": {"name": "axe-core"}, "violations": violations}).encode()


def test_lighthouse_scores_are_shown_out_of_100_under_lighthouse_names() -> None:
    # Given a worker summary with Lighthouse's 0-1 scores
    summary = LighthouseRunSummary.from_worker(WORKER_SUMMARY).to_result()

    # When it is serialised
    data = summary.model_dump(mode="json", by_alias=True)

    # Then the four categories are 0-100 integers (null when unscored), named as in Lighthouse
    assert data["scores"] == {"performance": 87, "accessibility": 50, "best-practices": 100, "seo": None}
    # And Lighthouse's own run time and final URL are kept
    assert data["timing"] == {"total_ms": 6240.7}
    assert data["final_url"] == "https://shop.example/home"
    assert data["lighthouse_version"] == "12.2.3"
    assert data["metrics"]["first_contentful_paint_ms"] == 1200.5
    assert data["warnings"] == ["The page loaded too slowly"]


def test_axe_counts_add_up_violated_rules_by_impact() -> None:
    # Given axe results with two critical rules, one serious and one moderate
    raw = axe_raw(
        [
            {"id": "image-alt", "impact": "critical", "help": "Images must have alt", "nodes": []},
            {"id": "label", "impact": "critical", "help": "Form elements need labels", "nodes": []},
            {"id": "color-contrast", "impact": "serious", "help": "Contrast", "nodes": []},
            {"id": "region", "impact": "moderate", "help": "Landmarks", "nodes": []},
        ]
    )

    # When they are summarised
    summary = summarize_axe(raw)

    # Then the counts are per impact and add up to the violations
    assert summary.counts.model_dump() == {"critical": 2, "serious": 1, "moderate": 1, "minor": 0}
    assert [violation.id for violation in summary.violations] == [
        "image-alt",
        "label",
        "color-contrast",
        "region",
    ]


def test_axe_nodes_keep_target_and_html_and_are_capped() -> None:
    # Given a violation on many elements, one of them inside an iframe
    nodes = [{"target": ["iframe", "img"], "html": "<img src=a>", "any": [{"id": "x"}]}]
    nodes += [{"target": [f"#item-{i}"], "html": "<img>" + "x" * 5000} for i in range(80)]
    raw = axe_raw([{"id": "image-alt", "impact": "critical", "help": "Images must have alt", "nodes": nodes}])

    # When summarised
    [violation] = summarize_axe(raw).violations

    # Then each node is its target and html only, the html and the list bounded
    assert violation.nodes[0].model_dump() == {"target": ["iframe", "img"], "html": "<img src=a>"}
    assert len(violation.nodes) == MAX_NODES_PER_VIOLATION
    assert all(len(node.html) <= 1000 for node in violation.nodes)


def test_scan_result_serialises_to_the_design_shape() -> None:
    # Given a partial result: Lighthouse failed, axe found nothing
    result = ScanResult(
        url="https://shop.example/",
        final_url="https://shop.example/home",
        device="mobile",
        status="partial",
        error=ErrorInfo(
            code="lighthouse_failed", message="The performance audit (Lighthouse) could not finish."
        ),
        lighthouse=None,
        axe=summarize_axe(axe_raw([])),
        timings=Timings(total_ms=5000, navigation_ms=800, lighthouse_ms=4900, axe_ms=300),
    )

    # When it is serialised
    data = result.to_json_dict()

    # Then it is exactly the scan result's JSON
    assert data == {
        "url": "https://shop.example/",
        "final_url": "https://shop.example/home",
        "device": "mobile",
        "status": "partial",
        "error": {
            "code": "lighthouse_failed",
            "message": "The performance audit (Lighthouse) could not finish.",
        },
        "lighthouse": None,
        "axe": {"violations": [], "counts": {"critical": 0, "serious": 0, "moderate": 0, "minor": 0}},
        "timings": {"total_ms": 5000, "navigation_ms": 800, "lighthouse_ms": 4900, "axe_ms": 300},
    }
    assert json.loads(json.dumps(data)) == data


def test_artifacts_list_only_what_exists_with_content_types() -> None:
    artifacts = ScanArtifacts(screenshot_png=b"\x89PNG", axe_json=b"{}")
    assert [(a.name, a.content_type) for a in artifacts] == [
        ("screenshot.png", "image/png"),
        ("axe.json", "application/json"),
    ]
