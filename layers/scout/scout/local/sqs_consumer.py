"""An SQS event source mapping, locally: long-poll a queue, invoke the function with a batch,
delete what succeeded.

What Lambda does and this does too (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html):
- up to ``BatchSize`` messages per invocation, gathered for up to
  ``MaximumBatchingWindowInSeconds`` when more than one receive is needed;
- FIFO order: the queue itself holds back a message group while a message of it is in flight;
- a function error returns the whole batch to the queue (nothing is deleted); with
  ``ReportBatchItemFailures`` only the ids in ``batchItemFailures`` go back, and an invalid
  response (an id not in the batch, an empty id) fails the whole batch;
- a message that keeps failing becomes visible again after the queue's visibility timeout, and
  SQS's redrive policy moves it to the dead-letter queue after ``maxReceiveCount`` receives.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from scout.local.aws_endpoint import aws_client
from scout.local.environment import LocalNames
from scout.local.execution import Invocation, LogSink, PoolClosed
from scout.local.template import QueueSpec, SqsSource

# Short long-polls keep shutdown prompt; Lambda's pollers use up to 20 s.
POLL_WAIT_SECONDS = 1
MAX_MESSAGES_PER_RECEIVE = 10

Invoke = Callable[[dict[str, Any]], Invocation]


class SqsConsumer:
    def __init__(
        self,
        source: SqsSource,
        queue: QueueSpec,
        names: LocalNames,
        invoke: Invoke,
        log: LogSink | None = None,
    ) -> None:
        assert names.endpoint_url is not None
        self.source = source
        self.queue = queue
        self._invoke = invoke
        self._log = log or (lambda line: None)
        self._queue_url = str(names.queue_url(queue.logical_id))
        self._queue_arn = names.queue_arn(queue.logical_id)
        self._region = names.region
        self._sqs = aws_client("sqs", names.endpoint_url, names.region)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.batches = 0
        self.deleted = 0
        self.returned = 0

    @property
    def label(self) -> str:
        return f"{self.queue.logical_id} -> {self.source.function_id}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"sqs {self.label}", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self, drain_seconds: float) -> None:
        """No new receives; the batch in flight finishes (bounded by ``drain_seconds``)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=drain_seconds + POLL_WAIT_SECONDS + 1)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except PoolClosed:
                return
            except (BotoCoreError, ClientError) as exc:
                if self._stop.is_set():
                    return
                self._log(f"[sqs {self.label}] receive failed: {exc}; retrying")
                self._stop.wait(1.0)

    def poll_once(self, wait_seconds: int = POLL_WAIT_SECONDS) -> int:
        """One receive-invoke-settle cycle; the number of messages it handled."""
        messages = self._receive_batch(wait_seconds)
        if not messages:
            return 0
        invocation = self._invoke(sqs_event(messages, self._queue_arn, self._region))
        ids = [message["MessageId"] for message in messages]
        failed = failed_message_ids(invocation, ids, self.source.report_batch_item_failures)
        done = [message for message in messages if message["MessageId"] not in failed]
        self._delete(done)
        self.batches += 1
        self.deleted += len(done)
        self.returned += len(failed)
        summary = f"{len(messages)} message(s): {len(done)} done"
        if failed:
            reason = "function error" if not invocation.ok else "reported failures"
            summary += f", {len(failed)} back to the queue ({reason})"
        self._log(f"[sqs {self.label}] {summary}")
        return len(messages)

    def _receive_batch(self, wait_seconds: int) -> list[dict[str, Any]]:
        wanted = self.source.batch_size
        window_ends = time.monotonic() + self.source.batching_window_seconds
        messages: list[dict[str, Any]] = []
        wait = wait_seconds
        while len(messages) < wanted:
            response = self._sqs.receive_message(
                QueueUrl=self._queue_url,
                MaxNumberOfMessages=min(MAX_MESSAGES_PER_RECEIVE, wanted - len(messages)),
                WaitTimeSeconds=wait,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            messages.extend(response.get("Messages", []))
            remaining = window_ends - time.monotonic()
            if not messages or remaining <= 0:
                break
            wait = 1 if remaining >= 1 else 0
        return messages

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), MAX_MESSAGES_PER_RECEIVE):
            chunk = messages[start : start + MAX_MESSAGES_PER_RECEIVE]
            entries = [
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                for index, message in enumerate(chunk)
            ]
            self._sqs.delete_message_batch(QueueUrl=self._queue_url, Entries=entries)


def failed_message_ids(invocation: Invocation, ids: list[str], report_batch_item_failures: bool) -> set[str]:
    """The messages that go back to the queue, by Lambda's partial batch response rules."""
    everything = set(ids)
    if not invocation.ok:
        return everything
    if not report_batch_item_failures:
        return set()
    payload = invocation.payload
    if payload is None:
        return set()
    if not isinstance(payload, dict):
        return everything
    failures = payload.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return everything
    failed: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in everything:
            return everything
        failed.add(identifier)
    return failed


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda's SQS poller sends: one record per message."""
    return {"Records": [_record(message, queue_arn, region) for message in messages]}


def _record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _message_attribute(value)
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfMessageAttributes": message.get("MD5OfMessageAttributes"),
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": value.get("DataType"),
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
    return attribute
