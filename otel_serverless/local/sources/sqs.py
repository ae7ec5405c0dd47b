"""SQS event source mapping: poll a queue, invoke with batches, delete what succeeded.

As Lambda's poller does:

* batches of up to ``batch_size`` messages, collected for at most ``batch_window``
  seconds (messages being collected are in flight, invisible to others);
* each record carries every system attribute SQS returns (``ApproximateReceiveCount``
  grows with each redelivery, ``AWSTraceHeader`` when the sender set one) and the
  message attributes in Lambda's ``stringValue``/``binaryValue``/``dataType`` form;
* success deletes the batch; a function error or timeout deletes nothing, so the
  messages come back when their visibility timeout ends, and SQS moves a message
  to the dead-letter queue after ``maxReceiveCount`` receives (the queue's RedrivePolicy);
* with ``report_batch_item_failures`` only the ``batchItemFailures`` come back, and
  a response that is not a valid partial-batch response fails the whole batch,
  with exactly AWS's rules for what is valid.

Creating the mapping fails, as in AWS, when the queue's visibility timeout is
shorter than the function's timeout.
"""

from __future__ import annotations

import base64
import functools
import threading
import time
from collections.abc import Mapping
from typing import Any

from otel_serverless.local._functions import FunctionPool
from otel_serverless.local.sources._base import Host
from otel_serverless.local.sources._batch_response import failed_identifiers
from otel_serverless.local.sources._queues import delete, outstanding, queue_attribute, queue_url, receive

#: Lambda's limits for an SQS mapping (standard queue with a batch window).
MAX_BATCH_SIZE = 10000
MAX_BATCH_WINDOW = 300.0
#: Local default for ScalingConfig.MaximumConcurrency: the 5 pollers Lambda starts with.
DEFAULT_MAXIMUM_CONCURRENCY = 5


def lambda_message_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """SQS ``MessageAttributes`` as they appear in a Lambda record."""
    converted: dict[str, Any] = {}
    for name, value in attributes.items():
        entry: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value.get("DataType")}
        if "StringValue" in value:
            entry["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            entry["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
        converted[name] = entry
    return converted


def lambda_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One received SQS message as a record of Lambda's SQS event."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": lambda_message_attributes(message.get("MessageAttributes", {})),
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


class SqsEventSource:
    """One SQS → Lambda event source mapping."""

    def __init__(
        self,
        host: Host,
        pool: FunctionPool,
        queue: str,
        *,
        batch_size: int = 10,
        batch_window: float = 0.0,
        report_batch_item_failures: bool = False,
        maximum_concurrency: int = DEFAULT_MAXIMUM_CONCURRENCY,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH_SIZE:
            raise ValueError(f"batch size must be 1–{MAX_BATCH_SIZE}")
        if batch_size > 10 and batch_window <= 0:
            raise ValueError("a batch size above 10 needs a batch window, as in AWS")
        if not 0 <= batch_window <= MAX_BATCH_WINDOW:
            raise ValueError(f"batch window must be 0–{MAX_BATCH_WINDOW:.0f} seconds")
        if maximum_concurrency < 1:
            raise ValueError("maximum concurrency must be ≥ 1")
        self._host = host
        self._pool = pool
        self._sqs = host.client("sqs")
        self._url = queue_url(self._sqs, queue)
        self.queue_arn = queue_attribute(self._sqs, self._url, "QueueArn")
        self.visibility_timeout = int(queue_attribute(self._sqs, self._url, "VisibilityTimeout"))
        if self.visibility_timeout < pool.config.timeout:
            raise ValueError(
                f"Queue visibility timeout: {self.visibility_timeout} seconds is less than "
                f"Function timeout: {pool.config.timeout:g} seconds"
            )
        self._batch_size = batch_size
        self._batch_window = batch_window
        self._report_failures = report_batch_item_failures
        self._maximum_concurrency = maximum_concurrency
        self._collecting: list[dict[str, Any]] = []
        self._window_started = 0.0
        self._in_flight = 0
        self._lock = threading.Lock()
        self.description = f"sqs:{self.queue_arn.rsplit(':', 1)[-1]} → {pool.config.name}"

    def poll(self) -> int:
        started = 0
        while self._slots() and self._pool.has_capacity():
            batch = self._collect()
            if batch is None:
                break
            with self._lock:
                self._in_flight += 1
            self._host.background(functools.partial(self._invoke, batch), f"sqs:{self._pool.config.name}")
            started += 1
        return started

    def pending(self) -> bool:
        return bool(self._collecting) or outstanding(self._sqs, self._url) > 0

    def _slots(self) -> bool:
        with self._lock:
            return self._in_flight < self._maximum_concurrency

    def _collect(self) -> list[dict[str, Any]] | None:
        """A batch ready to invoke, or None (nothing yet, or the window is still open)."""
        while len(self._collecting) < self._batch_size:
            messages = receive(self._sqs, self._url, self._batch_size - len(self._collecting))
            if not messages:
                break
            if not self._collecting:
                self._window_started = time.monotonic()
            self._collecting.extend(messages)
        if not self._collecting:
            return None
        full = len(self._collecting) >= self._batch_size
        if full or time.monotonic() - self._window_started >= self._batch_window:
            batch, self._collecting = self._collecting, []
            return batch
        return None

    def _invoke(self, batch: list[dict[str, Any]]) -> None:
        try:
            region = self.queue_arn.split(":")[3]
            event = {"Records": [lambda_record(message, self.queue_arn, region) for message in batch]}
            result = self._host.invoke(
                self._pool, event, source="sqs", attempt=_receive_count(batch), wait=float(self.visibility_timeout)
            )
            if not result.ok:
                return  # the whole batch becomes visible again after its visibility timeout
            if not self._report_failures:
                delete(self._sqs, self._url, batch)
                return
            failed = failed_identifiers(result.value(), {message["MessageId"] for message in batch})
            if failed is not None:
                delete(self._sqs, self._url, [m for m in batch if m["MessageId"] not in failed])
        finally:
            with self._lock:
                self._in_flight -= 1


def _receive_count(batch: list[dict[str, Any]]) -> int:
    counts = [int(m.get("Attributes", {}).get("ApproximateReceiveCount", 1)) for m in batch]
    return max(counts, default=1)
