"""template.yaml wires the jobs functions as the code expects them."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from scout.api_docs import committed_document
from tests.support.functions import ROOT


class CloudFormationLoader(yaml.SafeLoader):
    """Reads !Ref, !GetAtt, !Sub ... as {"Ref": ...}-style mappings."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


CloudFormationLoader.add_multi_constructor("!", _intrinsic)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load((ROOT / "template.yaml").read_text(), Loader=CloudFormationLoader)  # noqa: S506
    return loaded


def resource(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"][logical_id]["Properties"]
    return properties


def test_every_jobs_route_in_the_api_document_reaches_the_jobs_function(template: dict[str, Any]) -> None:
    events = resource(template, "JobsApiFunction")["Events"].values()
    routed = {(event["Properties"]["Method"].lower(), event["Properties"]["Path"]) for event in events}
    documented = {
        (method, path)
        for path, operations in committed_document()["paths"].items()
        for method in operations
        if path in ("/health", "/jobs", "/companies") or path.startswith(("/jobs/", "/sources"))
    }
    assert documented <= routed
    assert ("get", "/openapi.json") in routed
    assert ("get", "/docs") in routed


def test_the_schedule_rate_is_a_parameter_of_fifteen_minutes(template: dict[str, Any]) -> None:
    assert template["Parameters"]["PollRate"]["Default"] == "rate(15 minutes)"
    schedule = resource(template, "PollSchedulerFunction")["Events"]["Schedule"]
    assert schedule["Type"] == "Schedule"
    assert schedule["Properties"]["Schedule"] == {"Ref": "PollRate"}


def test_the_worker_reports_batch_item_failures_from_the_poll_queue(template: dict[str, Any]) -> None:
    worker = resource(template, "PollWorkerFunction")
    [event] = worker["Events"].values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["Queue"] == {"Fn::GetAtt": ["PollQueue", "Arn"]}
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_poll_queue_outlasts_the_worker_and_dead_letters_after_five_receives(
    template: dict[str, Any],
) -> None:
    queue = resource(template, "PollQueue")
    worker = resource(template, "PollWorkerFunction")
    deadline = float(worker["Environment"]["Variables"]["POLL_DEADLINE_SECONDS"])
    # Lambda refuses an SQS source whose visibility timeout is below the function's timeout
    assert queue["VisibilityTimeout"] >= worker["Timeout"]
    # Sized from the poll deadline: the message of a worker that died is back, and its
    # retry recorded, within twice the deadline (not after six worker timeouts)
    assert queue["VisibilityTimeout"] < 2 * deadline
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["PollDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 5,
    }
    assert "FifoQueue" not in queue


def test_the_fetch_deadline_fits_inside_each_function(template: dict[str, Any]) -> None:
    for function_id, margin in (("PollWorkerFunction", 10), ("JobsApiFunction", 5)):
        function = resource(template, function_id)
        timeout = function.get("Timeout", template["Globals"]["Function"]["Timeout"])
        deadline = float(function["Environment"]["Variables"]["POLL_DEADLINE_SECONDS"])
        assert deadline + margin <= timeout, function_id


@pytest.mark.parametrize("function_id", ["JobsApiFunction", "PollSchedulerFunction"])
def test_functions_that_enqueue_know_the_queue_and_may_send_to_it(
    template: dict[str, Any], function_id: str
) -> None:
    function = resource(template, function_id)
    assert function["Environment"]["Variables"]["POLL_QUEUE_URL"] == {"Ref": "PollQueue"}
    assert {"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": ["PollQueue", "QueueName"]}}} in function[
        "Policies"
    ]


def test_the_local_stack_runs_the_poll_schedule_at_the_parameters_default() -> None:
    from scout.local.template import load_template

    template = load_template(ROOT / "template.yaml")
    [schedule] = [
        schedule for schedule in template.schedules if schedule.function_id == "PollSchedulerFunction"
    ]
    assert schedule.expression_text == "rate(15 minutes)"
    assert schedule.expression is not None
    assert schedule.enabled


def test_poll_messages_waiting_in_the_dead_letter_queue_raise_an_alarm(template: dict[str, Any]) -> None:
    # Given the poll queue's dead-letter queue
    alarm = resource(template, "PollDeadLetterAlarm")
    # Then any message visible there raises the alarm, sent to the alarm topic when one is set
    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["PollDeadLetterQueue", "QueueName"]}}
    ]
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == 0
    assert alarm["AlarmActions"] == resource(template, "ScanDeadLetterAlarm")["AlarmActions"]
