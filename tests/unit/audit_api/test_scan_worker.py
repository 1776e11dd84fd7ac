"""The scan worker's decisions for one message: skip, scan and store, retry, or give up.

The engine is a small fake of our own engine interface (real result models); the store
answers what claim_scan and finish_scan would (their SQL is tested on Postgres in
tests/integration/audit_api).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any
from uuid import UUID

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from scout.audit.budget import Budget
from scout.audit.result import ScanArtifacts, ScanOutcome, ScanResult, Timings
from scout.audit.scan_processing import (
    ScanAttemptFailed,
    handle_scan_message,
    lease_seconds,
    process_scan,
    runs_that_fit,
)
from scout.deps import Dependencies
from scout.errors import ErrorInfo
from scout.settings import Settings
from tests.support.audit_fakes import MemoryArtifacts, ScriptedStore, scan_row
from tests.support.functions import ROOT, load_function
from tests.support.wiring import serving_environment

SCAN_ID = UUID(scan_row()["id"])
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


class FakeScanner:
    """Answers every scan with ``outcome``, or raises ``failure``; records what it was asked."""

    def __init__(self, outcome: ScanOutcome | None = None, failure: Exception | None = None) -> None:
        self.outcome = outcome
        self.failure = failure
        self.scanned: list[tuple[str, str]] = []
        self.asked: list[tuple[int, Budget | None]] = []

    async def scan(
        self, url: str, device: str, *, runs: int = 1, budget: Budget | None = None
    ) -> ScanOutcome:
        self.scanned.append((url, device))
        self.asked.append((runs, budget))
        if self.failure is not None:
            raise self.failure
        assert self.outcome is not None
        return self.outcome


def outcome(status: str = "succeeded", error: str | None = None, *, screenshot: bool = True) -> ScanOutcome:
    result = ScanResult(
        url="https://example.com/",
        final_url="https://example.com/",
        device="desktop",
        status=status,  # type: ignore[arg-type]
        error=ErrorInfo(code=error, message=f"{error} happened") if error else None,
        lighthouse=None,
        axe=None,
        timings=Timings(total_ms=1234),
    )
    return ScanOutcome(
        result=result,
        artifacts=ScanArtifacts(screenshot_png=PNG if screenshot else None, axe_json=b'{"violations": []}'),
    )


def claimed(attempt: int = 1) -> dict[str, Any]:
    return {"outcome": "claimed", "scan": scan_row(status="running", attempts=attempt, device="desktop")}


def finishing_store(claim: dict[str, Any], finish: dict[str, Any] | None = None) -> ScriptedStore:
    return ScriptedStore({"claim_scan": claim, "finish_scan": finish or {"outcome": "finished"}})


async def run(store: ScriptedStore, scanner: FakeScanner, artifacts: MemoryArtifacts | None = None) -> Any:
    return await process_scan(
        SCAN_ID,
        store=store,
        scanner=scanner,
        artifacts=artifacts or MemoryArtifacts(),
        lease_seconds=150,
        max_attempts=4,
    )


async def test_a_claimed_scan_is_scanned_its_artifacts_uploaded_and_its_result_stored() -> None:
    # Given a queued scan the store lets this attempt claim
    store, scanner, artifacts = finishing_store(claimed()), FakeScanner(outcome()), MemoryArtifacts()
    # When the worker processes it
    done = await run(store, scanner, artifacts)
    # Then the engine scanned the stored URL and device
    assert scanner.scanned == [("https://example.com/", "desktop")]
    # And the artifacts went to scans/<id>/ with their content types
    assert artifacts.objects[f"scans/{SCAN_ID}/screenshot.png"] == ("image/png", PNG)
    assert artifacts.objects[f"scans/{SCAN_ID}/axe.json"][0] == "application/json"
    # And the result was finished by the claiming attempt, with the stored artifacts
    [finish] = store.called("finish_scan")
    assert finish["p_attempt"] == 1
    assert finish["p_result"] == outcome().result.to_json_dict()
    assert [item["name"] for item in finish["p_artifacts"]] == ["screenshot.png", "axe.json"]
    assert finish["p_artifacts"][0]["size_bytes"] == len(PNG)
    assert (done.outcome, done.status) == ("finished", "succeeded")


async def test_the_runs_and_budget_a_scan_asked_for_reach_the_engine() -> None:
    # Given a claimed scan that asked for three runs and a budget
    limits = {"scores": {"performance": 0.9}, "metrics": {}, "axe": {"serious": 0}}
    claim = {
        "outcome": "claimed",
        "scan": scan_row(status="running", attempts=1, runs=3, budget_limits=limits),
    }
    scanner = FakeScanner(outcome())
    # When the worker processes it
    await run(finishing_store(claim), scanner)
    # Then the engine was asked for exactly those
    [(runs, budget)] = scanner.asked
    assert runs == 3
    assert budget == Budget.model_validate(limits)


async def test_a_scan_stored_before_runs_and_budgets_is_one_run_without_a_budget() -> None:
    row = scan_row(status="running", attempts=1)
    del row["runs"], row["budget_limits"]
    scanner = FakeScanner(outcome())
    await run(finishing_store({"outcome": "claimed", "scan": row}), scanner)
    assert scanner.asked == [(1, None)]


@pytest.mark.parametrize(
    ("worker_timeout", "lighthouse_timeout", "fits"),
    [(900, 120, 5), (300, 120, 2), (180, 120, 1), (100, 120, 0), (900, 60, 5)],
)
def test_runs_fit_one_attempt_when_each_may_take_its_whole_lighthouse_timeout(
    worker_timeout: int, lighthouse_timeout: int, fits: int
) -> None:
    assert (
        runs_that_fit(worker_timeout_seconds=worker_timeout, lighthouse_timeout_seconds=lighthouse_timeout)
        == fits
    )


async def test_the_claim_holds_for_the_invocations_remaining_time_plus_a_margin() -> None:
    store = finishing_store(claimed())
    await run(store, FakeScanner(outcome()))
    [claim] = store.called("claim_scan")
    assert claim == {"p_scan_id": SCAN_ID, "p_lease_seconds": 150, "p_max_attempts": 4}
    assert lease_seconds(119_001) == 120 + 30


@pytest.mark.parametrize("reason", ["finished", "in_progress", "missing"])
async def test_a_skipped_claim_runs_no_scan(reason: str) -> None:
    store, scanner = (
        ScriptedStore({"claim_scan": {"outcome": "skipped", "reason": reason}}),
        FakeScanner(outcome()),
    )
    done = await run(store, scanner)
    assert scanner.scanned == []
    assert store.called("finish_scan") == []
    assert (done.outcome, done.reason) == ("skipped", reason)


async def test_a_scan_that_used_up_its_attempts_is_not_run_again() -> None:
    store, scanner = (
        ScriptedStore({"claim_scan": {"outcome": "gave_up", "attempts": 4}}),
        FakeScanner(outcome()),
    )
    done = await run(store, scanner)
    assert scanner.scanned == []
    assert (done.outcome, done.status) == ("gave_up", "failed")


@pytest.mark.parametrize(
    "code", ["blocked_target", "dns_failed", "tls_error", "bot_blocked", "http_error", "timeout"]
)
async def test_a_page_failing_for_the_sites_own_reasons_is_a_finished_failure(code: str) -> None:
    # Given the engine reports the site's failure, without a screenshot
    store = finishing_store(claimed())
    # When the worker processes it
    done = await run(store, FakeScanner(outcome("failed", code, screenshot=False)))
    # Then the failure is stored as the result (no retry)
    [finish] = store.called("finish_scan")
    assert finish["p_result"]["error"]["code"] == code
    assert [item["name"] for item in finish["p_artifacts"]] == ["axe.json"]
    assert (done.outcome, done.status) == ("finished", "failed")


@pytest.mark.parametrize("code", ["browser_crashed", "internal_error"])
async def test_scouts_own_failure_is_retried_while_attempts_remain(code: str) -> None:
    store, artifacts = finishing_store(claimed(attempt=2)), MemoryArtifacts()
    with pytest.raises(ScanAttemptFailed, match=code):
        await run(store, FakeScanner(outcome("failed", code)), artifacts)
    assert store.called("finish_scan") == []
    assert artifacts.objects == {}


async def test_on_the_last_attempt_scouts_own_failure_is_stored() -> None:
    store = finishing_store(claimed(attempt=4))
    done = await run(store, FakeScanner(outcome("failed", "browser_crashed")))
    assert store.called("finish_scan")[0]["p_result"]["error"]["code"] == "browser_crashed"
    assert done.status == "failed"


async def test_a_partial_result_is_stored_not_retried() -> None:
    store = finishing_store(claimed())
    done = await run(store, FakeScanner(outcome("partial", "lighthouse_failed")))
    assert done.status == "partial"


@pytest.mark.parametrize(
    "failure",
    [
        ("engine", RuntimeError("the scan engine's Node side is not installed")),
        ("artifacts", ConnectionError("S3 unreachable")),
    ],
    ids=["engine raises", "upload fails"],
)
async def test_an_infrastructure_failure_raises_so_the_message_comes_back(
    failure: tuple[str, Exception],
) -> None:
    part, error = failure
    store = finishing_store(claimed())
    scanner = FakeScanner(failure=error) if part == "engine" else FakeScanner(outcome())
    artifacts = MemoryArtifacts(failure=error if part == "artifacts" else None)
    with pytest.raises(type(error)):
        await run(store, scanner, artifacts)
    assert store.called("finish_scan") == []


async def test_a_result_from_an_attempt_that_was_taken_over_is_dropped() -> None:
    store = finishing_store(claimed(), finish={"outcome": "superseded"})
    done = await run(store, FakeScanner(outcome()))
    assert done.outcome == "superseded"


class HangingScanner:
    async def scan(
        self, url: str, device: str, *, runs: int = 1, budget: Budget | None = None
    ) -> ScanOutcome:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


def test_an_attempt_gives_up_before_lambda_would_stop_it() -> None:
    # Given an invocation with 10.5 s left and a scan that never ends
    store = finishing_store(claimed())
    parts = Dependencies(
        Settings(ALLOWED_HOSTS="localhost"),
        store=store,
        scanner=HangingScanner(),
        artifacts=MemoryArtifacts(),
    )
    # When the worker handles the message, it stops with an error (a retry), not a kill
    with pytest.raises(TimeoutError):
        handle_scan_message(json.dumps({"scan_id": str(SCAN_ID)}), remaining_millis=10_500, parts=parts)
    assert store.called("finish_scan") == []


# ---- the function: SQS FIFO batch -> ScanWorker -> partial batch response ----------------------


class FakeLambdaContext:
    function_name = "ScanWorkerFunction"
    memory_limit_in_mb = 3538
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ScanWorkerFunction"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 119_500


@pytest.fixture
def worker_function(scout_env: pytest.MonkeyPatch) -> ModuleType:
    scout_env.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    scout_env.setenv("REPORTS_BUCKET", "scout-reports-test")
    scout_env.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return load_function("scan_worker")


def sample_event() -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / "scan_worker_scan_queued.json").read_text())
    return event


ServeWith = Callable[[ModuleType, ScriptedStore, FakeScanner], Callable[[], Any]]


@pytest.fixture
def serve_with() -> Iterator[ServeWith]:
    """Serve the function with the test's store and scanner for the rest of the test."""
    with contextlib.ExitStack() as stack:

        def serve(module: ModuleType, store: ScriptedStore, scanner: FakeScanner) -> Callable[[], Any]:
            stack.enter_context(
                serving_environment(store=store, scanner=scanner, artifacts=MemoryArtifacts())
            )
            return lambda: module.handler(sample_event(), FakeLambdaContext())

        yield serve


def test_the_sample_message_is_processed_and_reported_as_done(
    worker_function: ModuleType, serve_with: ServeWith
) -> None:
    store = finishing_store(claimed())
    response = serve_with(worker_function, store, FakeScanner(outcome()))()
    assert response == {"batchItemFailures": []}
    assert store.called("claim_scan")[0]["p_scan_id"] == SCAN_ID
    assert store.called("claim_scan")[0]["p_lease_seconds"] == 120 + 30  # 119.5 s left, rounded up


# With one message per batch, a failed message fails the whole batch: Powertools then raises,
# and Lambda returns the message to the queue (after the visibility timeout) as it would for
# a reported item failure.


def test_a_retried_attempt_fails_the_invocation_so_the_message_returns(
    worker_function: ModuleType, serve_with: ServeWith
) -> None:
    store = finishing_store(claimed())
    invoke = serve_with(worker_function, store, FakeScanner(outcome("failed", "browser_crashed")))
    with pytest.raises(BatchProcessingError, match="All records failed"):
        invoke()
    assert store.called("finish_scan") == []


def test_a_message_scout_never_sends_fails_and_is_left_for_the_dead_letter_queue(
    worker_function: ModuleType, serve_with: ServeWith
) -> None:
    store = ScriptedStore()
    serve_with(worker_function, store, FakeScanner(outcome()))
    event = sample_event()
    event["Records"][0]["body"] = "not json"
    with pytest.raises(BatchProcessingError):
        worker_function.handler(event, FakeLambdaContext())
    assert store.calls == []


def test_cold_start_fails_without_the_reports_bucket(scout_env: pytest.MonkeyPatch) -> None:
    scout_env.delenv("REPORTS_BUCKET", raising=False)
    with pytest.raises(RuntimeError, match="REPORTS_BUCKET"):
        load_function("scan_worker")
