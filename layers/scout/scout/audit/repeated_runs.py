"""Several Lighthouse runs of one page, reported as one: the run with the median performance score.

Lighthouse's own guidance on variability is to run several times and look at the median
run; Lighthouse CI reports one representative run of each URL's runs. The reported run is a
whole run (its report, scores and metrics together), never an average that no run produced,
and every run's scores and key metrics are kept beside it so the spread stays visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scout.audit.lighthouse import LighthouseRun
from scout.audit.result import KEY_METRICS, LighthouseRunRecord, LighthouseSummary


@dataclass(frozen=True)
class NumberedRun:
    number: int  # 1 for the scan's first run
    run: LighthouseRun


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


def report_runs(
    runs: Sequence[NumberedRun], *, warnings: Sequence[str] = ()
) -> tuple[LighthouseRun, LighthouseSummary]:
    """The median run (for its report files) and the summary of the scan's Lighthouse half."""
    chosen = runs[median_position([numbered.run.summary.scores.get("performance") for numbered in runs])]
    summary = chosen.run.summary.to_result()
    records = [
        LighthouseRunRecord(
            run=numbered.number,
            scores=numbered.run.summary.to_result().scores,
            metrics={key: numbered.run.summary.metrics.get(key) for key in KEY_METRICS},
        )
        for numbered in runs
    ]
    return chosen.run, summary.model_copy(
        update={
            "median_run": chosen.number,
            "runs": records,
            "warnings": [*summary.warnings, *warnings],
        }
    )
