"""Lambda's partial batch response rules, and the SQS event records it sends."""

from __future__ import annotations

from scout.local.execution import Invocation
from scout.local.sqs_consumer import failed_message_ids, sqs_event

IDS = ["m1", "m2", "m3"]


def outcome(payload: object) -> Invocation:
    return Invocation("r", payload=payload)


def test_only_reported_items_go_back() -> None:
    payload = {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert failed_message_ids(outcome(payload), IDS, True) == {"m2"}


def test_empty_or_null_responses_mean_complete_success() -> None:
    for payload in (None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}):
        assert failed_message_ids(outcome(payload), IDS, True) == set()


def test_invalid_reports_fail_the_whole_batch() -> None:
    for payload in (
        {"batchItemFailures": [{"itemIdentifier": "unknown"}]},
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"id": "m1"}]},
        {"batchItemFailures": "m1"},
        "not an object",
    ):
        assert failed_message_ids(outcome(payload), IDS, True) == set(IDS)


def test_a_function_error_returns_every_message() -> None:
    failed = Invocation("r", error={"errorType": "ValueError", "errorMessage": "boom"})
    assert failed_message_ids(failed, IDS, True) == set(IDS)
    assert failed_message_ids(failed, IDS, False) == set(IDS)


def test_without_report_batch_item_failures_a_returned_report_is_ignored() -> None:
    payload = {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert failed_message_ids(outcome(payload), IDS, False) == set()


def test_records_carry_lambda_field_names_and_fifo_attributes() -> None:
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "rh",
        "MD5OfBody": "md5",
        "Body": '{"url": "https://example.com"}',
        "Attributes": {"ApproximateReceiveCount": "1", "MessageGroupId": "g1", "SequenceNumber": "1"},
        "MessageAttributes": {
            "kind": {"StringValue": "scan", "DataType": "String"},
            "blob": {"BinaryValue": b"\x00\x01", "DataType": "Binary"},
        },
    }
    [record] = sqs_event([message], "arn:aws:sqs:us-east-1:123456789012:scans.fifo", "us-east-1")["Records"]
    assert record["messageId"] == "m1"
    assert record["receiptHandle"] == "rh"
    assert record["attributes"]["MessageGroupId"] == "g1"
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "scan",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["messageAttributes"]["blob"]["binaryValue"] == "AAE="
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":scans.fifo")
