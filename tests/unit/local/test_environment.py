"""A function's environment: template, local wiring, shell, env.json, dev defaults, Lambda."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scout.local.environment import (
    EnvironmentSources,
    LocalConfigError,
    function_environment,
    local_names,
    read_env_file,
)
from scout.local.template import Template, load_template
from tests.support.functions import ROOT
from tests.support.local_stack import FIXTURE

ENDPOINT = "http://127.0.0.1:4566"


@pytest.fixture(scope="module")
def fixture_template() -> Template:
    return load_template(FIXTURE / "template.yaml")


def resolve(
    template: Template,
    function_id: str,
    *,
    overrides: dict[str, str] | None = None,
    shell_env: dict[str, str] | None = None,
    env_file: dict[str, dict[str, str]] | None = None,
    local_stack: dict[str, str] | None = None,
    dev_defaults: dict[str, str] | None = None,
) -> dict[str, str]:
    names = local_names(template, endpoint_url=ENDPOINT, parameter_overrides=overrides)
    sources = EnvironmentSources(
        names, shell_env or {}, env_file or {}, local_stack or {}, dev_defaults or {}
    )
    return function_environment(template.function(function_id), sources).variables


def test_refs_resolve_to_the_local_queue_url_arn_and_bucket(fixture_template: Template) -> None:
    variables = resolve(fixture_template, "MessagesFunction")
    assert variables["WORK_QUEUE_URL"] == f"{ENDPOINT}/123456789012/scout-local-WorkQueue"
    assert variables["DEAD_LETTER_QUEUE_URL"] == f"{ENDPOINT}/123456789012/scout-local-WorkDeadLetterQueue"
    assert variables["RESULTS_BUCKET"] == "scout-local-resultsbucket"
    counter = resolve(fixture_template, "CounterFunction")
    # QueueName: !Sub "${AWS::StackName}-orders-${Stage}.fifo" with the parameter's default
    assert counter["ORDER_QUEUE_NAME"] == "scout-local-orders-test.fifo"
    assert counter["ORDER_QUEUE_ARN"] == "arn:aws:sqs:us-east-1:123456789012:scout-local-orders-test.fifo"


def test_function_variables_override_globals(fixture_template: Template) -> None:
    assert resolve(fixture_template, "CounterFunction")["GREETING"] == "from the function"
    assert resolve(fixture_template, "EchoFunction")["GREETING"] == "from globals"


def test_deploy_time_values_stay_unset_and_say_why(fixture_template: Template) -> None:
    # Given a parameter without default and a Secrets Manager dynamic reference
    names = local_names(fixture_template, endpoint_url=ENDPOINT)
    environment = function_environment(
        fixture_template.function("CounterFunction"), EnvironmentSources(names)
    )
    # Then neither is set, and the reason is kept for the banner
    assert "GREETING_PARAMETER" not in environment.variables
    assert "DEPLOY_SECRET" not in environment.variables
    assert environment.unset["GREETING_PARAMETER"] == "parameter Greeting has no value"
    assert "secretsmanager" in environment.unset["DEPLOY_SECRET"]


def test_parameter_overrides_are_checked_against_allowed_values(fixture_template: Template) -> None:
    assert resolve(fixture_template, "EchoFunction", overrides={"Stage": "dev"})["STAGE"] == "dev"
    with pytest.raises(LocalConfigError, match="AllowedValues"):
        resolve(fixture_template, "EchoFunction", overrides={"Stage": "prod"})
    with pytest.raises(LocalConfigError, match="undeclared"):
        resolve(fixture_template, "EchoFunction", overrides={"Nope": "1"})


def test_precedence_is_template_then_local_stack_then_shell_then_env_json_then_dev_defaults(
    fixture_template: Template,
) -> None:
    variables = resolve(
        fixture_template,
        "CounterFunction",
        local_stack={"SCOUT_STORE": "postgres", "GREETING": "from the local stack"},
        shell_env={
            "GREETING": "from the shell",
            "UNDECLARED": "x",
            "GREENHOUSE_API_URL": "http://127.0.0.1:9",
        },
        env_file={"Parameters": {"STAGE": "from env.json"}, "CounterFunction": {"GREETING_PARAMETER": "p"}},
        dev_defaults={"ALLOWED_HOSTS": "localhost", "STAGE": "dev default loses"},
    )
    assert variables["SCOUT_STORE"] == "postgres"
    assert variables["GREETING"] == "from the shell"  # declared in the template: the shell wins
    assert "UNDECLARED" not in variables  # neither declared nor a scout setting
    assert variables["GREENHOUSE_API_URL"] == "http://127.0.0.1:9"  # a scout setting
    assert variables["STAGE"] == "from env.json"
    assert variables["GREETING_PARAMETER"] == "p"
    assert variables["ALLOWED_HOSTS"] == "localhost"  # filled only because nothing set it


def test_real_aws_credentials_never_reach_a_local_function(fixture_template: Template) -> None:
    variables = resolve(
        fixture_template,
        "EchoFunction",
        shell_env={
            "AWS_ACCESS_KEY_ID": "AKIAREAL",
            "AWS_SECRET_ACCESS_KEY": "real",
            "AWS_SESSION_TOKEN": "t",
        },
        env_file={"EchoFunction": {"AWS_ENDPOINT_URL": "https://sqs.us-east-1.amazonaws.com"}},
    )
    assert variables["AWS_ACCESS_KEY_ID"] == "local"
    assert "AWS_SESSION_TOKEN" not in variables
    assert variables["AWS_ENDPOINT_URL"] == ENDPOINT
    assert variables["AWS_LAMBDA_FUNCTION_NAME"] == "EchoFunction"
    assert variables["POWERTOOLS_TRACE_DISABLED"] == "true"


def test_real_template_gets_loopback_hosts_and_dev_secrets_when_nothing_is_set() -> None:
    template = load_template(ROOT / "template.yaml")
    variables = resolve(
        template,
        "JobsApiFunction",
        dev_defaults={"ALLOWED_HOSTS": "localhost,127.0.0.1", "ADMIN_SESSION_SECRET": "k" * 40},
    )
    assert variables["ALLOWED_HOSTS"] == "localhost,127.0.0.1"
    assert variables["ADMIN_SESSION_SECRET"] == "k" * 40
    assert variables["SCOUT_STAGE"] == "dev"


def test_env_json_must_map_logical_ids_to_flat_values(tmp_path: Path) -> None:
    path = tmp_path / "env.json"
    path.write_text(json.dumps({"Fn": {"A": 1, "B": True, "C": None}}))
    assert read_env_file(path) == {"Fn": {"A": "1", "B": "true"}}
    path.write_text(json.dumps({"Fn": {"A": {"nested": 1}}}))
    with pytest.raises(LocalConfigError, match=r"Fn\.A"):
        read_env_file(path)
    path.write_text("{not json")
    with pytest.raises(LocalConfigError, match="not valid JSON"):
        read_env_file(path)
    assert read_env_file(tmp_path / "absent.json") == {}
