"""template.yaml gives the scan pipeline what issue 5 asks of it: queue timing, redrive and its
alarm, a private expiring bucket, a two-core image worker, and least-privilege policies."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from scout.settings import Settings
from tests.support.functions import ROOT


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (!Ref, !GetAtt ...) read as plain mappings."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {f"!{suffix}": value}


_CfnLoader.add_multi_constructor("!", _tagged)


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader)  # noqa: S506
    found: dict[str, Any] = template["Resources"]
    return found


def properties(resources: dict[str, Any], logical_id: str) -> dict[str, Any]:
    found: dict[str, Any] = resources[logical_id]["Properties"]
    return found


def test_scan_queue_visibility_is_at_least_six_worker_timeouts(resources: dict[str, Any]) -> None:
    queue = properties(resources, "ScanQueue")
    worker = properties(resources, "ScanWorkerFunction")
    assert queue["VisibilityTimeout"] >= 6 * worker["Timeout"]


def test_scan_queue_is_fifo_with_sender_deduplication(resources: dict[str, Any]) -> None:
    queue = properties(resources, "ScanQueue")
    assert queue["FifoQueue"] is True
    assert queue["ContentBasedDeduplication"] is False
    assert properties(resources, "ScanDeadLetterQueue")["FifoQueue"] is True


def test_a_scan_is_failed_for_good_before_its_message_would_reach_the_dead_letter_queue(
    resources: dict[str, Any],
) -> None:
    redrive = properties(resources, "ScanQueue")["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"!GetAtt": "ScanDeadLetterQueue.Arn"}
    assert redrive["maxReceiveCount"] >= 5
    assert Settings.model_fields["scan_max_attempts"].default < redrive["maxReceiveCount"]


def test_messages_waiting_in_the_dead_letter_queue_raise_an_alarm(resources: dict[str, Any]) -> None:
    alarm = properties(resources, "ScanDeadLetterAlarm")
    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"!GetAtt": "ScanDeadLetterQueue.QueueName"}}
    ]
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == 0


def test_reports_bucket_is_private_encrypted_and_expires_artifacts(resources: dict[str, Any]) -> None:
    bucket = properties(resources, "ReportsBucket")
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    [rule] = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["Prefix"] == "scans/"
    assert "ExpirationInDays" in rule


def test_scan_worker_is_a_two_core_image_fed_one_message_at_a_time(resources: dict[str, Any]) -> None:
    worker = properties(resources, "ScanWorkerFunction")
    assert worker["PackageType"] == "Image"
    assert worker["MemorySize"] >= 3538
    assert "Runtime" not in worker
    assert "Layers" not in worker
    [event] = worker["Events"].values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["BatchSize"] == 1
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    metadata = resources["ScanWorkerFunction"]["Metadata"]
    assert (ROOT / metadata["DockerContext"] / metadata["Dockerfile"]).is_file()


def test_globals_give_an_image_function_nothing_it_may_not_have(resources: dict[str, Any]) -> None:
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader)  # noqa: S506
    function_globals = template["Globals"]["Function"]
    assert {"Runtime", "Layers", "Handler", "CodeUri"} & set(function_globals) == set()


def test_audit_api_may_send_to_the_queue_and_read_the_bucket_only(resources: dict[str, Any]) -> None:
    api = properties(resources, "AuditApiFunction")
    policy_names = [next(iter(policy)) for policy in api["Policies"]]
    assert sorted(policy_names) == ["S3ReadPolicy", "SQSSendMessagePolicy"]
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in api["Events"].values()}
    assert routes == {
        ("POST", "/scans"),
        ("GET", "/scans"),
        ("GET", "/scans/{scan_id}"),
        ("GET", "/scans/{scan_id}/diff"),
        ("GET", "/history"),
        ("POST", "/monitors"),
        ("GET", "/monitors"),
        ("GET", "/monitors/{monitor_id}"),
        ("PATCH", "/monitors/{monitor_id}"),
        ("DELETE", "/monitors/{monitor_id}"),
        ("POST", "/monitors/{monitor_id}/run"),
        ("GET", "/monitors/{monitor_id}/runs"),
        ("GET", "/monitors/{monitor_id}/deliveries"),
    }
    assert api["Environment"]["Variables"]["SCAN_QUEUE_URL"] == {"!Ref": "ScanQueue"}


def test_audit_api_knows_the_scan_workers_timeout_it_fits_runs_into(resources: dict[str, Any]) -> None:
    # Given the audit API, which refuses more Lighthouse runs than one worker attempt holds
    api = properties(resources, "AuditApiFunction")
    worker = properties(resources, "ScanWorkerFunction")
    # Then the worker timeout it reckons with is the worker's own
    assert int(api["Environment"]["Variables"]["SCAN_WORKER_TIMEOUT_SECONDS"]) == worker["Timeout"]


def test_scan_worker_may_write_the_bucket_and_send_webhook_events_only(resources: dict[str, Any]) -> None:
    worker = properties(resources, "ScanWorkerFunction")
    assert worker["Policies"] == [
        {"S3WritePolicy": {"BucketName": {"!Ref": "ReportsBucket"}}},
        {"SQSSendMessagePolicy": {"QueueName": {"!GetAtt": "WebhookQueue.QueueName"}}},
    ]
    assert worker["Environment"]["Variables"]["WEBHOOK_QUEUE_URL"] == {"!Ref": "WebhookQueue"}
    assert worker["Environment"]["Variables"]["REPORTS_BUCKET"] == {"!Ref": "ReportsBucket"}
