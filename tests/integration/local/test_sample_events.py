"""Every sample event runs through its function with `scout invoke` (events/<function_dir>_<what>.json)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from scout.local.template import load_template
from tests.support.functions import ROOT
from tests.support.local_stack import FIXTURE, copy_fixture, copy_real_project, scout

AUTH_SUFFIX = re.compile(r"_as_(user|admin|service)$")


def sample_events(events_dir: Path, template_path: Path) -> list[tuple[Path, str]]:
    template = load_template(template_path)
    found = []
    for event_file in sorted(events_dir.glob("*.json")):
        spec = template.function_for_event(event_file)
        found.append((event_file, spec.logical_id if spec else ""))
    return found


PROJECT_EVENTS = sample_events(ROOT / "events", ROOT / "template.yaml")
FIXTURE_EVENTS = sample_events(FIXTURE / "events", FIXTURE / "template.yaml")


@pytest.fixture(scope="module")
def real_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_real_project(tmp_path_factory.mktemp("events"))


@pytest.fixture(scope="module")
def fixture_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_fixture(tmp_path_factory.mktemp("fixture-events"))


def run_event(project: Path, event_file: Path, function_id: str, *extra: str) -> dict[str, object]:
    # Given an event named for a function of the template
    assert function_id, f"{event_file.name} is named for no function folder of the template"
    auth = AUTH_SUFFIX.search(event_file.stem)
    auth_args = ["--auth", auth.group(1)] if auth else []
    # When `scout invoke` runs it
    result = scout("invoke", function_id, "--event", str(event_file), *auth_args, *extra, cwd=project)
    # Then the function answers, and the answer is what its trigger expects
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    output = json.loads(line)
    event = json.loads(event_file.read_text())
    if event.get("version") == "2.0":
        assert isinstance(output, dict)
        assert output["statusCode"] < 500, output
    if "Records" in event:
        assert isinstance(output, dict)
        assert isinstance(output.get("batchItemFailures", []), list)
    return output if isinstance(output, dict) else {"value": output}


def test_every_function_with_a_route_has_a_sample_event() -> None:
    template = load_template(ROOT / "template.yaml")
    covered = {function_id for _, function_id in PROJECT_EVENTS}
    assert set(template.triggered_functions()) <= covered


@pytest.mark.parametrize(
    ("event_file", "function_id"), PROJECT_EVENTS, ids=[path.stem for path, _ in PROJECT_EVENTS]
)
def test_project_sample_event_runs_through_its_function(
    real_project: Path, event_file: Path, function_id: str
) -> None:
    run_event(real_project, event_file, function_id)


@pytest.mark.parametrize(
    ("event_file", "function_id"), FIXTURE_EVENTS, ids=[path.stem for path, _ in FIXTURE_EVENTS]
)
def test_fixture_sample_event_runs_through_its_function(
    fixture_project: Path, event_file: Path, function_id: str
) -> None:
    run_event(fixture_project, event_file, function_id, "--env-vars", "env-vars.json")


def test_the_health_event_answers_200(real_project: Path) -> None:
    output = run_event(real_project, ROOT / "events" / "jobs_api_health.json", "JobsApiFunction")
    assert output["statusCode"] == 200


def test_a_request_for_a_foreign_host_is_refused(real_project: Path) -> None:
    output = run_event(real_project, ROOT / "events" / "jobs_api_health_foreign_host.json", "JobsApiFunction")
    assert output["statusCode"] == 400


def test_an_event_named_as_admin_carries_a_working_admin_token(fixture_project: Path) -> None:
    output = run_event(fixture_project, FIXTURE / "events" / "whoami_as_admin.json", "WhoAmIFunction")
    assert output["statusCode"] == 200


def test_an_event_without_a_token_is_refused_by_an_admin_route(fixture_project: Path) -> None:
    output = run_event(fixture_project, FIXTURE / "events" / "whoami_without_token.json", "WhoAmIFunction")
    assert output["statusCode"] == 401


def test_the_poison_record_of_a_batch_is_reported_failed(fixture_project: Path) -> None:
    event_file = FIXTURE / "events" / "work_consumer_batch_with_poison.json"
    output = run_event(fixture_project, event_file, "WorkConsumerFunction")
    assert output["batchItemFailures"] == [{"itemIdentifier": "2e1424d4-f796-459a-8184-9c92662be6da"}]


def test_a_fifo_failure_fails_the_rest_of_its_group(fixture_project: Path) -> None:
    event_file = FIXTURE / "events" / "order_consumer_fifo_batch.json"
    output = run_event(fixture_project, event_file, "OrderConsumerFunction")
    failed = [failure["itemIdentifier"] for failure in output["batchItemFailures"]]  # type: ignore[attr-defined]
    assert failed == ["22d6ee51-4cc7-4302-9e22-7cd8afdaadf5", "33d6ee51-4cc7-4302-9e22-7cd8afdaadf5"]
