"""`scout invoke`: one function in-process, its environment from the template, warm with --repeat."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.local_stack import copy_fixture, scout


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_fixture(tmp_path_factory.mktemp("invoke"))


def invoke(project: Path, *args: str, event: object = None) -> tuple[int, list[object], str]:
    event_file = project / "event.json"
    event_file.write_text(json.dumps(event if event is not None else {}))
    result = scout("invoke", *args, "--event", str(event_file), "--env-vars", "env-vars.json", cwd=project)
    outputs = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result.returncode, outputs, result.stderr


def test_repeat_shows_a_warm_start_with_one_import(project: Path) -> None:
    # When the counting function is invoked three times in one session
    code, outputs, log = invoke(project, "CounterFunction", "--repeat", "3", event={"n": 1})
    # Then each return value is printed as JSON, and the module state carried over
    assert code == 0, log
    assert [output["invocations"] for output in outputs] == [1, 2, 3]  # type: ignore[index]
    assert "invocation 1/3 (cold start" in log
    assert "invocation 3/3 (warm, module already imported)" in log


def test_environment_and_context_come_from_template_env_json_and_lambda(project: Path) -> None:
    code, [output], log = invoke(project, "CounterFunction", event={"hello": "world"})
    assert code == 0, log
    assert isinstance(output, dict)
    environment = output["environment"]
    assert environment["GREETING"] == "from the function"
    assert environment["GREETING_PARAMETER"] == "from env.json"
    assert environment["FIXTURE_EVERYWHERE"] == "from env.json Parameters"
    assert environment["STAGE"] == "test"
    assert environment["ORDER_QUEUE_NAME"] == "scout-local-orders-test.fifo"
    assert environment["DEPLOY_SECRET"] is None
    assert environment["ALLOWED_HOSTS"] == "localhost,127.0.0.1"
    assert environment["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert output["event"] == {"hello": "world"}
    assert output["function_name"] == "CounterFunction"
    assert 0 < output["remaining_ms"] <= 3000


def test_parameter_overrides_reach_the_function(project: Path) -> None:
    code, [output], _ = invoke(
        project, "CounterFunction", "--parameter-overrides", "Stage=dev", "Greeting=hi"
    )
    assert code == 0
    assert isinstance(output, dict)
    assert output["environment"]["STAGE"] == "dev"
    assert output["environment"]["GREETING_PARAMETER"] == "from env.json"  # env.json still wins


def test_a_handler_error_prints_lambdas_error_object_and_fails(project: Path) -> None:
    event = json.loads((project / "events" / "echo_get_name.json").read_text())
    event["rawPath"] = "/boom"
    code, [output], log = invoke(project, "EchoFunction", event=event)
    assert code == 1
    assert isinstance(output, dict)
    assert output["errorType"] == "ValueError"
    assert output["errorMessage"] == "boom on purpose"
    assert "ValueError" in log


def test_auth_mints_a_token_the_function_accepts(project: Path) -> None:
    event = json.loads((project / "events" / "whoami_without_token.json").read_text())
    code, [output], log = invoke(project, "WhoAmIFunction", "--auth", "admin:ada", event=event)
    assert code == 0, log
    assert isinstance(output, dict)
    assert output["statusCode"] == 200
    assert json.loads(output["body"]) == {"sub": "ada", "strategy": "admin"}


def test_an_unknown_function_is_a_clear_error(project: Path) -> None:
    code, outputs, log = invoke(project, "NoSuchFunction")
    assert code == 2
    assert outputs == []
    assert "declares no function 'NoSuchFunction'" in log
    assert "Traceback" not in log


def test_a_template_problem_stops_invoke_before_running_anything(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
        "    Properties: {CodeUri: missing, Handler: app.handler}\n"
    )
    (tmp_path / "event.json").write_text("{}")
    result = scout("invoke", "Fn", "--event", "event.json", cwd=tmp_path)
    assert result.returncode == 2
    assert "Fn: code folder missing (CodeUri) does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_handler_running_past_its_timeout_is_stopped(project: Path) -> None:
    # Given a function with a 2 s timeout whose /slow route sleeps past it
    event = json.loads((project / "events" / "echo_get_name.json").read_text())
    event["rawPath"] = "/slow"
    code, [output], log = invoke(project, "EchoFunction", "--repeat", "2", event=event)
    # Then the invocation fails as a timeout and the session ends there
    assert code == 1
    assert isinstance(output, dict)
    assert output["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 2.00 seconds" in output["errorMessage"]
    assert "invocation 2/2" not in log
