"""``scout monitor run ID``: one run of a monitor, its scans processed in this process.

The run starts as ``POST /monitors/{id}/run`` starts it; its scans then go through the scan
worker's own ``process_scan`` with this process's pooled Chromium (as ``scout scan``), one at a
time per host and different hosts side by side, as on the FIFO scan queue.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from scout import runtime

if TYPE_CHECKING:
    from scout.monitors.local_run import PageDone
    from scout.monitors.models import MonitorRun

EXIT_STATUS_HELP = (
    "exit status: 0 the run finished and every budget held; 1 a page did not hold the budget; "
    "2 the run failed (it could not be planned, or a page's scan failed) or there is no such monitor"
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    monitor = subparsers.add_parser("monitor", help="monitors on this machine")
    commands = monitor.add_subparsers(dest="monitor_command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="run a monitor now, its scans in this process, with a progress bar",
        description="Start a run of the monitor (as POST /monitors/{id}/run) and scan its pages here, "
        "one at a time per host, different hosts side by side. Uses DATABASE_URL, else the local "
        "stack's embedded Postgres.",
        epilog=EXIT_STATUS_HELP,
    )
    run.add_argument("monitor_id", metavar="MONITOR_ID")
    run.add_argument(
        "--artifacts",
        type=Path,
        default=Path(".scout/artifacts"),
        metavar="DIR",
        help="where screenshots and reports go when REPORTS_BUCKET is unset (.scout/artifacts)",
    )
    run.set_defaults(func=monitor_run_command)


def monitor_run_command(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    # ALLOWED_HOSTS guards the HTTP edge, which this command does not have (as `scout scan`).
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    if not os.environ.get("DATABASE_URL"):
        _use_local_database()
    return runtime.run(_run(args, out or sys.stdout))


def _use_local_database() -> None:
    from scout.local.database import provide_database
    from scout.local.dev_settings import find_project_root

    database = provide_database(find_project_root(Path.cwd()), os.environ)
    if database.url is None:
        raise RuntimeError(f"no database: {database.description}")
    os.environ["DATABASE_URL"] = database.url


async def _run(args: argparse.Namespace, out: TextIO) -> int:
    from scout import deps
    from scout.audit.scan_processing import lease_seconds
    from scout.errors import NotFound
    from scout.monitors.local_run import (
        DirectoryArtifacts,
        LocalRunParts,
        process_run_scans,
        run_as_it_is_now,
        start_local_run,
    )

    parts = deps.current()
    settings = parts.settings
    local = LocalRunParts(
        store=parts.store(),
        scanner=parts.scanner,
        artifacts=parts.artifacts() if settings.reports_bucket else DirectoryArtifacts(args.artifacts),
        sitemap_client=parts.sitemap_client(),
        lease_seconds=lease_seconds(int(settings.scan_worker_timeout_seconds * 1000)),
        max_attempts=settings.scan_max_attempts,
    )
    try:
        started = await start_local_run(args.monitor_id, local)
    except NotFound as missing:
        sys.stderr.write(f"scout monitor run: {missing.message}\n")
        return 2
    progress = Progress(started.run.pages_planned, out)
    progress.begin(started.run)
    await process_run_scans(started.queue, local, progress.page_done)
    run = await run_as_it_is_now(started, local.store)
    progress.end()
    out.write(summary(run) + "\n")
    out.flush()
    return exit_status(run)


class Progress:
    """A line per page; on a terminal also a carriage-return bar under them."""

    WIDTH = 30

    def __init__(self, planned: int, out: TextIO) -> None:
        self.planned = planned
        self.out = out
        self.scanned = self.failed = 0
        self.on_terminal = out.isatty()

    def begin(self, run: MonitorRun) -> None:
        self.out.write(f"run {run.id}: {run.pages_planned} pages planned\n")
        self._bar()

    def page_done(self, page: PageDone) -> None:
        if page.status in ("succeeded", "partial"):
            self.scanned += 1
        else:
            self.failed += 1
        done = self.scanned + self.failed
        # A line per page (DESIGN.md: summary per page); on a terminal it goes above the bar,
        # which is cleared first and redrawn under it.
        clear = "\r\033[K" if self.on_terminal else ""
        self.out.write(
            f"{clear}page {done}/{self.planned} {page.host} {page.status or 'skipped'} scan {page.scan_id}\n"
        )
        self.out.flush()
        self._bar()

    def end(self) -> None:
        if self.on_terminal:
            self.out.write("\n")

    def _bar(self) -> None:
        if not self.on_terminal:
            return
        done = self.scanned + self.failed
        filled = self.WIDTH * done // self.planned if self.planned else self.WIDTH
        self.out.write(
            f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{self.planned} pages "
            f"({self.scanned} scanned, {self.failed} failed)"
        )
        self.out.flush()


def summary(run: MonitorRun) -> str:
    lines = [f"run {run.id}  {run.status}"]
    if run.error is not None:
        lines.append(f"  error       {run.error.code}: {run.error.message}")
    lines.append(
        f"  pages       {run.pages_planned} planned, {run.pages_scanned} scanned, {run.pages_failed} failed"
    )
    lines.append(f"  budget      {run.budget_passed} passed, {run.budget_failed} failed")
    lines.append(f"  regressions {len(run.regressions)}")
    lines.extend(f"  {'':<12}- {regression.get('url')}" for regression in run.regressions)
    return "\n".join(lines)


def exit_status(run: MonitorRun) -> int:
    if run.status != "finished" or run.pages_failed:
        return 2
    return 1 if run.budget_failed else 0
