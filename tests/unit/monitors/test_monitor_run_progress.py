"""The progress of ``scout monitor run``: a bar on a terminal, plain lines elsewhere, and the
exit status the run's counts give."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from scout.cli.monitors import Progress, exit_status
from scout.monitors.local_run import PageDone
from scout.monitors.models import MonitorRun


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def a_run(**counts: Any) -> MonitorRun:
    fields: dict[str, Any] = {
        "id": uuid4(),
        "monitor_id": uuid4(),
        "trigger": "manual",
        "status": "finished",
        "error": None,
        "pages": ["http://127.0.0.1/a", "http://127.0.0.1/b"],
        "pages_planned": 2,
        "pages_scanned": 2,
        "pages_failed": 0,
        "budget_passed": 0,
        "budget_failed": 0,
        "regressions": [],
        "created_at": datetime.now(UTC),
        "started_at": datetime.now(UTC),
        "finished_at": datetime.now(UTC),
    }
    return MonitorRun.model_validate(fields | counts)


def test_on_a_terminal_a_bar_of_done_and_failed_of_planned_is_redrawn_under_each_page_line() -> None:
    # Given a terminal and a run of 2 pages
    out = Terminal()
    progress = Progress(2, out)
    progress.begin(a_run())
    # When one page is scanned and one fails
    progress.page_done(PageDone(uuid4(), "127.0.0.1", "succeeded"))
    progress.page_done(PageDone(uuid4(), "127.0.0.1", "failed"))
    progress.end()
    # Then each page has its line, the bar is cleared above it and redrawn under it, and ends full
    text = out.getvalue()
    assert text.count("\r\033[Kpage ") == 2
    assert "page 2/2 127.0.0.1 failed scan " in text
    assert text.endswith("] 2/2 pages (1 scanned, 1 failed)\n")


def test_elsewhere_each_page_is_one_line_and_there_is_no_bar() -> None:
    out = io.StringIO()
    progress = Progress(2, out)
    progress.begin(a_run())
    progress.page_done(PageDone(uuid4(), "127.0.0.2", "partial"))
    progress.end()
    lines = out.getvalue().splitlines()
    assert lines[1].startswith("page 1/2 127.0.0.2 partial scan ")
    assert "\r" not in out.getvalue()


def test_exit_status_is_2_for_a_failed_run_or_page_1_for_a_missed_budget_else_0() -> None:
    assert exit_status(a_run()) == 0
    assert exit_status(a_run(budget_passed=1, budget_failed=1)) == 1
    assert exit_status(a_run(pages_scanned=1, pages_failed=1, budget_failed=1)) == 2
    assert exit_status(a_run(status="failed", pages_planned=0, pages_scanned=0)) == 2
