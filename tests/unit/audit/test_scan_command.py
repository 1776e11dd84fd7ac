"""``scout scan`` output and exit status, with a small in-memory engine of our own interface."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from scout.audit.axe import summarize_axe
from scout.audit.budget import Budget, evaluate_budget
from scout.audit.result import ScanArtifacts, ScanOutcome, ScanResult, Timings
from scout.cli import build_parser
from scout.cli.audit import scan_command
from scout.errors import ErrorInfo


class ScriptedEngine:
    """Answers each scan with the next of the given results, and remembers what it was asked."""

    def __init__(self, *results: ScanResult) -> None:
        self.results = list(results)
        self.scans: list[tuple[str, str]] = []
        self.runs: list[int] = []
        self.closed = False

    async def scan(
        self, url: str, device: str, *, runs: int = 1, budget: Budget | None = None
    ) -> ScanOutcome:
        self.scans.append((url, device))
        self.runs.append(runs)
        scanned = self.results.pop(0).model_copy(update={"device": device})
        if budget is not None:
            scanned = scanned.model_copy(update={"budget": evaluate_budget(budget, scanned)})
        return ScanOutcome(result=scanned, artifacts=ScanArtifacts(screenshot_png=b"\x89PNG"))

    async def aclose(self) -> None:
        self.closed = True


def result(status: str = "succeeded", *, error: ErrorInfo | None = None) -> ScanResult:
    violations = [
        {
            "id": "image-alt",
            "impact": "critical",
            "help": "Images must have alternative text",
            "nodes": [{"target": ["img"], "html": "<img>"}],
        }
    ]
    return ScanResult(
        url="https://shop.example/",
        final_url="https://shop.example/" if status != "failed" else None,
        device="mobile",
        status=status,  # type: ignore[arg-type]
        error=error,
        lighthouse=None,
        axe=summarize_axe(json.dumps({"violations": violations}).encode()) if status != "failed" else None,
        timings=Timings(total_ms=4200, navigation_ms=300, lighthouse_ms=4100, axe_ms=250),
    )


@pytest.fixture(autouse=True)
def allowed_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    # The command fills in ALLOWED_HOSTS when unset; keep that out of other tests' environment.
    monkeypatch.setenv("ALLOWED_HOSTS", "localhost")


def run(argv: list[str], engine: ScriptedEngine) -> tuple[int, str]:
    out = io.StringIO()
    status = scan_command(build_parser().parse_args(argv), engine_factory=lambda: engine, out=out)  # type: ignore[arg-type,return-value]
    return status, out.getvalue()


def test_json_mode_prints_one_result_object_per_scan() -> None:
    # Given an engine and a command asking for two desktop scans as JSON
    engine = ScriptedEngine(result(), result())

    # When the command runs
    status, output = run(
        ["scan", "https://shop.example/", "--device", "desktop", "--json", "--repeat", "2"], engine
    )

    # Then each scan is one JSON line with the result fields, and the engine was closed
    lines = output.splitlines()
    assert status == 0
    assert len(lines) == 2
    assert [json.loads(line)["status"] for line in lines] == ["succeeded", "succeeded"]
    assert engine.scans == [("https://shop.example/", "desktop")] * 2
    assert engine.closed


def test_table_mode_shows_status_violations_and_which_scans_were_warm() -> None:
    # Given two scans, the second partial
    lighthouse_error = ErrorInfo(
        code="lighthouse_failed", message="The performance audit (Lighthouse) could not finish."
    )
    engine = ScriptedEngine(result(), result("partial", error=lighthouse_error))

    # When the command prints a table
    status, output = run(["scan", "https://shop.example/", "--repeat", "2"], engine)

    # Then the first scan is marked cold and the second warm, with their findings
    assert status == 0
    assert "scan 1/2 (cold)  https://shop.example/  mobile  succeeded" in output
    assert "scan 2/2 (warm)" in output
    assert "1 violations: 1 critical" in output
    assert "- image-alt (critical): Images must have alternative text [1 element]" in output
    assert "error       lighthouse_failed: The performance audit (Lighthouse) could not finish." in output
    assert "total 4.20 s" in output


def test_failed_scan_makes_the_command_exit_1() -> None:
    error = ErrorInfo(code="dns_failed", message="The website's name could not be found.")
    status, output = run(["scan", "https://nowhere.example/"], ScriptedEngine(result("failed", error=error)))
    assert status == 1
    assert "dns_failed" in output


@pytest.mark.parametrize("repeat", ["0", "-1", "two"])
def test_repeat_must_be_a_positive_whole_number(repeat: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["scan", "https://shop.example/", "--repeat", repeat])
    assert exited.value.code == 2
    assert "--repeat" in capsys.readouterr().err


def budget_file(tmp_path: Path, budget: dict[str, object]) -> str:
    path = tmp_path / "budget.json"
    path.write_text(json.dumps(budget))
    return str(path)


def test_a_budget_that_holds_exits_0_and_says_passed(tmp_path: Path) -> None:
    budget = budget_file(tmp_path, {"axe": {"critical": 1}})
    status, output = run(["scan", "https://shop.example/", "--budget", budget], ScriptedEngine(result()))
    assert status == 0
    assert "budget      passed" in output


def test_a_budget_that_fails_exits_1_and_prints_each_failure(tmp_path: Path) -> None:
    budget = budget_file(tmp_path, {"axe": {"critical": 0}})
    status, output = run(["scan", "https://shop.example/", "--budget", budget], ScriptedEngine(result()))
    assert status == 1
    assert "budget      FAILED (1)" in output
    assert "- axe.critical: 1 (limit 0)" in output


def test_a_failed_scan_with_a_budget_exits_2(tmp_path: Path) -> None:
    error = ErrorInfo(code="dns_failed", message="The website's name could not be found.")
    budget = budget_file(tmp_path, {"axe": {"critical": 0}})
    status, _ = run(
        ["scan", "https://nowhere.example/", "--budget", budget],
        ScriptedEngine(result("failed", error=error)),
    )
    assert status == 2


def test_a_budget_failure_shows_in_the_json_result(tmp_path: Path) -> None:
    budget = budget_file(tmp_path, {"axe": {"critical": 0}})
    status, output = run(
        ["scan", "https://shop.example/", "--json", "--budget", budget], ScriptedEngine(result())
    )
    assert status == 1
    assert json.loads(output)["budget"] == {
        "passed": False,
        "failures": [{"kind": "axe", "key": "critical", "limit": 0, "actual": 1}],
    }


def test_a_budget_file_with_an_unknown_key_is_refused_by_name_before_any_scan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = ScriptedEngine(result())
    status, _ = run(
        ["scan", "https://shop.example/", "--budget", budget_file(tmp_path, {"axe": {"severe": 0}})], engine
    )
    assert status == 2
    assert "axe.severe" in capsys.readouterr().err
    assert engine.scans == []


def test_runs_are_passed_to_the_engine() -> None:
    engine = ScriptedEngine(result())
    status, _ = run(["scan", "https://shop.example/", "--runs", "3"], engine)
    assert (status, engine.runs) == (0, [3])


@pytest.mark.parametrize("runs", ["0", "6"])
def test_runs_must_be_one_to_five(runs: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["scan", "https://shop.example/", "--runs", runs])
    assert exited.value.code == 2
    assert "--runs" in capsys.readouterr().err
