"""How a poll is bounded and reported: the worker's deadline, scout poll's lines and bar."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import pytest

from scout.cli.polling import ProgressLine, summary_line
from scout.errors import NotFound
from scout.jobs.models import PollRun
from scout.jobs.poll_messages import SYNC_RESERVE_SECONDS, fetch_deadline
from scout.jobs.poll_queue import PollRequest
from scout.jobs.polling import PollOutcome
from scout.settings import Settings

REQUEST = PollRequest(source_id=uuid.uuid4(), ats="lever", board="acme")


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def settings() -> Settings:
    return Settings(ALLOWED_HOSTS="localhost", POLL_DEADLINE_SECONDS="60")


def test_the_fetch_deadline_is_the_configured_one_when_time_allows(settings: Settings) -> None:
    assert fetch_deadline(settings, Context(remaining_ms=300_000)) == 60  # type: ignore[arg-type]
    assert fetch_deadline(settings, None) == 60


def test_the_fetch_deadline_leaves_time_to_sync_before_lambda_stops(settings: Settings) -> None:
    assert fetch_deadline(settings, Context(remaining_ms=40_000)) == 40 - SYNC_RESERVE_SECONDS  # type: ignore[arg-type]
    assert fetch_deadline(settings, Context(remaining_ms=2_000)) == 1.0  # type: ignore[arg-type]


def run(**fields: object) -> PollRun:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "source_id": REQUEST.source_id,
        "status": "succeeded",
        "complete": True,
        "fetched": 12,
        "upserted": 3,
        "archived": 1,
        "relisted": 0,
        "guard": None,
        "error": None,
        "started_at": datetime(2026, 1, 5, tzinfo=UTC),
        "finished_at": datetime(2026, 1, 5, tzinfo=UTC),
    }
    values.update(fields)
    return PollRun.model_validate(values)


@pytest.mark.parametrize(
    ("outcome", "line"),
    [
        (PollOutcome(REQUEST, run=run()), "lever acme: 12 fetched, 3 new or changed, 1 archived, 0 relisted"),
        (
            PollOutcome(REQUEST, run=run(complete=False, guard="incomplete_fetch", archived=0)),
            "lever acme: 12 fetched, 3 new or changed, 0 archived, 0 relisted"
            " [incomplete; archiving held back: incomplete_fetch]",
        ),
        (
            PollOutcome(
                REQUEST, run=run(status="failed", error={"code": "ats_timeout", "message": "too slow"})
            ),
            "lever acme: failed (ats_timeout: too slow)",
        ),
        (
            PollOutcome(REQUEST, error=NotFound("source gone")),
            "lever acme: not polled (not_found): source gone",
        ),
    ],
)
def test_each_source_gets_one_summary_line(outcome: PollOutcome, line: str) -> None:
    assert summary_line(outcome) == line


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_redraws_in_place_on_a_terminal() -> None:
    terminal = Terminal()
    bar = ProgressLine(4, terminal)
    bar.advance()
    bar.advance()
    assert terminal.getvalue().split("\r")[-1] == "[" + "#" * 15 + "." * 15 + "] 2/4 sources polled"
    bar.clear()
    assert terminal.getvalue().endswith("\r\x1b[K")


def test_the_progress_bar_stays_silent_when_not_on_a_terminal() -> None:
    piped = io.StringIO()
    bar = ProgressLine(4, piped)
    bar.advance()
    bar.clear()
    assert piped.getvalue() == ""
