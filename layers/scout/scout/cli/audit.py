"""``scout scan``: run the scan engine in this process (no queue, no store) and print results.

All scans of one command share one event loop and so one browser and one Lighthouse
worker; with ``--repeat`` the scans after the first show what a warm execution environment
costs. ``--runs N`` runs Lighthouse N times per scan and reports the median run;
``--budget FILE`` judges each scan against a budget (the JSON of POST /scans' ``budget``),
for a CI job: exit 1 when a budget fails, 2 when a scan failed, 0 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from scout import runtime

if TYPE_CHECKING:
    from scout.audit.budget import Budget
    from scout.audit.engine import ScanEngine
    from scout.audit.result import ScanOutcome, ScanResult

EngineFactory = Callable[[], "ScanEngine"]

_TABLE_VIOLATIONS = 10


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "scan",
        help="scan a page with Lighthouse and axe-core, in this process",
        description="Scan URL with Lighthouse and axe-core in a pooled Chromium (no queue, no store).",
    )
    parser.add_argument("url", help="the page to scan (http or https)")
    parser.add_argument("--device", choices=("mobile", "desktop"), default="mobile")
    parser.add_argument("--json", action="store_true", help="print one JSON object per scan")
    parser.add_argument(
        "--repeat", type=_positive_int, default=1, metavar="N", help="scan N times (the later scans are warm)"
    )
    parser.add_argument(
        "--runs",
        type=_run_count,
        default=1,
        metavar="N",
        help="Lighthouse runs per scan (1-5); the median-performance run is reported",
    )
    parser.add_argument(
        "--budget",
        type=Path,
        metavar="FILE",
        help="a JSON budget {scores, metrics, axe}; exit 1 when a scan fails it, 2 when a scan failed",
    )
    parser.add_argument(
        "--artifacts",
        type=Path,
        metavar="DIR",
        help="also save the screenshot, Lighthouse reports and axe results under DIR/<scan number>/",
    )
    parser.set_defaults(func=scan_command)


def scan_command(
    args: argparse.Namespace, *, engine_factory: EngineFactory | None = None, out: TextIO | None = None
) -> int:
    """Exit status 0 when no scan failed outright (partial counts as done), 1 otherwise.

    With a budget: 2 when a scan failed outright, else 1 when a scan did not hold the budget.
    """
    # ALLOWED_HOSTS guards the HTTP edge, which this command does not have; settings still
    # require it, so a local run does not have to invent one.
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    budget = None
    if args.budget is not None:
        try:
            budget = _read_budget(args.budget)
        except ValueError as exc:
            sys.stderr.write(f"scout scan: --budget {args.budget}: {exc}\n")
            return 2
    if engine_factory is None:
        from scout import deps

        # The pooled parts, as the scan worker has them; they close when the process exits.
        engine_factory = deps.current().scan_engine
    return runtime.run(_scan_all(args, engine_factory, out or sys.stdout, budget))


async def _scan_all(
    args: argparse.Namespace, engine_factory: EngineFactory, out: TextIO, budget: Budget | None
) -> int:
    engine = engine_factory()
    failed = over_budget = 0
    try:
        for number in range(1, args.repeat + 1):
            outcome = await engine.scan(args.url, args.device, runs=args.runs, budget=budget)
            failed += outcome.result.status == "failed"
            over_budget += outcome.result.budget is not None and not outcome.result.budget.passed
            if args.artifacts is not None:
                await asyncio.to_thread(_save_artifacts, outcome, args.artifacts / str(number))
            if args.json:
                out.write(json.dumps(outcome.result.to_json_dict()) + "\n")
            else:
                out.write(_table(outcome.result, number, args.repeat) + "\n")
            out.flush()
    finally:
        await engine.aclose()
    if budget is None:
        return 1 if failed else 0
    return 2 if failed else 1 if over_budget else 0


def _read_budget(path: Path) -> Budget:
    from pydantic import ValidationError

    from scout.audit.budget import Budget

    try:
        text = path.read_text()
    except OSError as exc:
        raise ValueError(f"cannot read it ({exc.strerror})") from None
    try:
        return Budget.model_validate_json(text)
    except ValidationError as exc:
        problems = (
            f"{'.'.join(str(part) for part in error['loc']) or 'budget'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ValueError("; ".join(problems)) from None


def _table(result: ScanResult, number: int, repeat: int) -> str:
    warmth = "cold" if number == 1 else "warm"
    lines = [f"scan {number}/{repeat} ({warmth})  {result.url}  {result.device}  {result.status}"]

    def row(label: str, value: str) -> None:
        lines.append(f"  {label:<12}{value}")

    row("final url", result.final_url or "-")
    if result.error is not None:
        row("error", f"{result.error.code}: {result.error.message}")
    if result.lighthouse is not None:
        scores = result.lighthouse.scores.model_dump(by_alias=True)
        row("lighthouse", "  ".join(f"{name} {_value(score)}" for name, score in scores.items()))
        if len(result.lighthouse.runs) > 1:
            row(
                "runs",
                "  ".join(
                    f"{record.run}: performance {_value(record.scores.performance)}"
                    + (" (reported, median)" if record.run == result.lighthouse.median_run else "")
                    for record in result.lighthouse.runs
                ),
            )
    else:
        row("lighthouse", "-")
    if result.axe is not None:
        counts = result.axe.counts
        row(
            "axe",
            f"{len(result.axe.violations)} violations: {counts.critical} critical, {counts.serious} serious, "
            f"{counts.moderate} moderate, {counts.minor} minor",
        )
        for violation in result.axe.violations[:_TABLE_VIOLATIONS]:
            nodes = len(violation.nodes)
            lines.append(
                f"  {'':<12}- {violation.id} ({violation.impact or 'unknown'}): {violation.help} "
                f"[{nodes} element{'s' if nodes != 1 else ''}]"
            )
        if len(result.axe.violations) > _TABLE_VIOLATIONS:
            lines.append(f"  {'':<12}... and {len(result.axe.violations) - _TABLE_VIOLATIONS} more")
    else:
        row("axe", "-")
    if result.budget is not None:
        row("budget", "passed" if result.budget.passed else f"FAILED ({len(result.budget.failures)})")
        for failure in result.budget.failures:
            actual = "not measured" if failure.actual is None else f"{failure.actual:g}"
            lines.append(f"  {'':<12}- {failure.kind}.{failure.key}: {actual} (limit {failure.limit:g})")
    timings = result.timings
    row(
        "timings",
        f"total {_seconds(timings.total_ms)}  navigation {_seconds(timings.navigation_ms)}  "
        f"lighthouse {_seconds(timings.lighthouse_ms)}  axe {_seconds(timings.axe_ms)}",
    )
    return "\n".join(lines)


def _save_artifacts(outcome: ScanOutcome, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for artifact in outcome.artifacts:
        (folder / artifact.name).write_bytes(artifact.body)
    (folder / "result.json").write_text(json.dumps(outcome.result.to_json_dict(), indent=2))


def _value(score: int | None) -> str:
    return "-" if score is None else str(score)


def _seconds(ms: int | None) -> str:
    return "-" if ms is None else f"{ms / 1000:.2f} s"


def _run_count(text: str) -> int:
    value = _positive_int(text)
    if value > 5:
        raise argparse.ArgumentTypeError("at most 5 runs")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
