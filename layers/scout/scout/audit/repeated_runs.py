"""Several Lighthouse runs of one page, reported as one: the run with the median performance score.

Lighthouse's own guidance on variability is to run several times and look at the median
run; Lighthouse CI reports one representative run of each URL's runs. The reported run is a
whole run (its report, scores and metrics together), never an average that no run produced,
and every run's scores and key metrics are kept beside it so the spread stays visible.

Only the performance category varies between runs of the same page (it picks the median);
accessibility, best practices and SEO audit the page's markup and settings. So a scan's first
run is Lighthouse's full run and the runs after it gather the performance category only
(``onlyCategories``; no full-page screenshot, no back/forward-cache check). When the median
is one of those, the reported report is combined (:func:`combine_reports`): that run's
performance category and audits, with the first run's other three categories, the audits
the performance run skipped or did not have, and its full-page screenshot, and a run warning
saying so. The runs' records keep what each run measured: a performance run's
other scores are null.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scout.audit.lighthouse import LighthouseRun, RunScope
from scout.audit.result import KEY_METRICS, LighthouseRunRecord, LighthouseSummary

PERFORMANCE = "performance"


@dataclass(frozen=True)
class NumberedRun:
    number: int  # 1 for the scan's first run
    run: LighthouseRun
    scope: RunScope = "full"


def run_scope(number: int) -> RunScope:
    """What run ``number`` of a scan gathers: the first everything, the others performance."""
    return "full" if number == 1 else "performance"


def median_position(performance_scores: Sequence[float | None]) -> int:
    """The position of the run whose performance score is the median.

    With an even number of scored runs the lower of the two middle scores is taken, so that
    the reported run is never the flattering one; equal scores keep their run order. Runs
    without a performance score are passed over unless no run has one.
    """
    if not performance_scores:
        raise ValueError("there is no run to choose from")
    scored = [position for position, score in enumerate(performance_scores) if score is not None]
    if not scored:
        return 0
    ranked = sorted(scored, key=lambda position: performance_scores[position] or 0.0)
    return ranked[(len(ranked) - 1) // 2]


def median_run(runs: Sequence[NumberedRun]) -> NumberedRun:
    return runs[median_position([numbered.run.summary.scores.get(PERFORMANCE) for numbered in runs])]


def full_run(runs: Sequence[NumberedRun]) -> NumberedRun:
    """The run that gathered every category (the first; a scan whose first run fails fails)."""
    return next(numbered for numbered in runs if numbered.scope == "full")


def report_runs(
    runs: Sequence[NumberedRun], *, warnings: Sequence[str] = ()
) -> tuple[NumberedRun, LighthouseSummary]:
    """The median run and the summary of the scan's Lighthouse half.

    The summary's scores are the median run's, and for a performance run the other three
    categories' scores are the full run's, as in the combined report.
    """
    chosen = median_run(runs)
    chosen_summary = chosen.run.summary
    if chosen.scope == "performance":
        full_scores = full_run(runs).run.summary.scores
        chosen_summary = chosen_summary.model_copy(
            update={"scores": {**full_scores, PERFORMANCE: chosen_summary.scores.get(PERFORMANCE)}}
        )
    summary = chosen_summary.to_result()
    records = [
        LighthouseRunRecord(
            run=numbered.number,
            scores=numbered.run.summary.to_result().scores,
            metrics={key: numbered.run.summary.metrics.get(key) for key in KEY_METRICS},
        )
        for numbered in runs
    ]
    return chosen, summary.model_copy(
        update={
            "median_run": chosen.number,
            "runs": records,
            "warnings": [*summary.warnings, *warnings],
        }
    )


def combine_reports(full: bytes, performance: bytes, *, full_number: int, performance_number: int) -> bytes:
    """One complete Lighthouse JSON report: ``performance``'s run with ``full``'s other categories.

    From the performance run: the performance category (its score), every audit it ran, its
    timing, settings and environment. From the full run: the other categories, every audit
    they or the performance category reference that the performance run did not run (such as
    the skipped, weight-0 ``bf-cache``; the performance category lists its audits in the full
    run's order), their groups, the full-page screenshot (which the performance run did not
    take) and the entities and message paths those audits use. The report's run warnings say
    which run each part comes from.
    """
    full_lhr: dict[str, Any] = json.loads(full)
    lhr: dict[str, Any] = json.loads(performance)
    audits = dict(lhr["audits"])
    categories: dict[str, Any] = {}
    # Where the parts taken from the full run sit in the report, as its message paths name them.
    taken: list[str] = []
    for category_id, category in full_lhr["categories"].items():
        if category_id == PERFORMANCE:
            own_refs = {ref["id"]: ref for ref in lhr["categories"][PERFORMANCE].get("auditRefs", [])}
            full_ids = {ref["id"] for ref in category.get("auditRefs", [])}
            refs = [own_refs.get(ref["id"], ref) for ref in category.get("auditRefs", [])]
            refs += [ref for ref_id, ref in own_refs.items() if ref_id not in full_ids]
            categories[category_id] = {**lhr["categories"][PERFORMANCE], "auditRefs": refs}
        else:
            categories[category_id] = category
            refs = category.get("auditRefs", [])
            taken.append(f"categories[{category_id}]")
        for ref in refs:
            if ref["id"] not in audits:
                audits[ref["id"]] = full_lhr["audits"][ref["id"]]
                taken.append(f"audits[{ref['id']}]")
    taken.extend(f"categoryGroups[{group}]" for group in full_lhr.get("categoryGroups", {}))
    lhr["categories"] = categories
    lhr["audits"] = audits
    lhr["categoryGroups"] = {**full_lhr.get("categoryGroups", {}), **lhr.get("categoryGroups", {})}
    if "fullPageScreenshot" in full_lhr and "fullPageScreenshot" not in lhr:
        lhr["fullPageScreenshot"] = full_lhr["fullPageScreenshot"]
    lhr["entities"] = _union_by_name(lhr.get("entities"), full_lhr.get("entities"))
    lhr["i18n"] = {
        **lhr.get("i18n", {}),
        "icuMessagePaths": _with_paths(
            lhr.get("i18n", {}).get("icuMessagePaths", {}),
            full_lhr.get("i18n", {}).get("icuMessagePaths", {}),
            under=tuple(taken),
        ),
    }
    lhr["runWarnings"] = [
        *lhr.get("runWarnings", []),
        f"This report combines two runs of the page: performance from run {performance_number} "
        f"(the median performance score), accessibility, best practices and SEO from run "
        f"{full_number}, which also took the full-page screenshot and checked the "
        "back/forward cache.",
    ]
    return json.dumps(lhr).encode()


def _union_by_name(
    first: list[dict[str, Any]] | None, second: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    merged = list(first or [])
    names = {entity.get("name") for entity in merged}
    merged.extend(entity for entity in second or [] if entity.get("name") not in names)
    return merged


def _with_paths(
    own: dict[str, list[Any]], other: dict[str, list[Any]], *, under: tuple[str, ...]
) -> dict[str, list[Any]]:
    """``own`` message paths plus those of ``other`` that point into the parts taken from it.

    A path is a string or ``{"path", "values"}``; ``under`` are prefixes such as ``audits[x]``
    (the closing bracket keeps ``audits[x]`` from matching ``audits[x-y]``).
    """
    merged = {message: list(paths) for message, paths in own.items()}
    for message, paths in other.items():
        for path in paths:
            where = path if isinstance(path, str) else path.get("path", "")
            if where.startswith(under):
                known = merged.setdefault(message, [])
                if path not in known:
                    known.append(path)
    return merged
