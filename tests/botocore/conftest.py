"""Fixtures for producer tests: our hooks installed (and removed), a producer span, and clients on moto."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from opentelemetry import trace
from opentelemetry.trace import Span

import otel_serverless.botocore as ours
from otel_serverless.botocore._registry import EXTENSIONS
from otel_serverless.propagation import dynamodb


@pytest.fixture
def instrumented(aws: str) -> Iterator[None]:
    ours.instrument()
    dynamodb.forget_learnt_keys()
    yield
    ours.uninstrument()


@pytest.fixture
def parent() -> Iterator[Span]:
    """The application's span around the boto3 call."""
    with trace.get_tracer("tests.botocore").start_as_current_span("handler") as span:
        yield span


def client(service: str) -> object:
    return boto3.client(service)  # type: ignore[call-overload]


#: The operations a service extension handles (every other call gets a plain CLIENT span too).
EXTENSION_OPERATIONS = frozenset(operation for extension in EXTENSIONS.values() for operation in extension.operations)


def producer_spans(spans: object, name: str | None = None) -> list[object]:
    """Finished spans our instrumentation opened for the operations a service extension handles
    (optionally by name): the sends, not the queue set-up and receives around them."""
    found = [
        s
        for s in spans.get_finished_spans()  # type: ignore[attr-defined]
        if s.instrumentation_scope is not None
        and s.instrumentation_scope.name == "otel_serverless.botocore"
        and s.attributes.get("rpc.method") in EXTENSION_OPERATIONS
    ]
    return [s for s in found if name is None or s.name == name]


def lambda_sqs_record(message: dict, queue_arn: str) -> dict:
    """The Lambda SQS event record for a ReceiveMessage message (Lambda's own field mapping)."""
    import base64

    attributes = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        converted = {"dataType": value["DataType"], "stringListValues": [], "binaryListValues": []}
        if "StringValue" in value:
            converted["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            converted["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
        attributes[name] = converted
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": attributes,
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "us-east-1",
    }


def receive_all(sqs: object, url: str, expected: int = 1) -> list[dict]:
    messages: list[dict] = []
    for _ in range(10):
        batch = sqs.receive_message(  # type: ignore[attr-defined]
            QueueUrl=url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        messages.extend(batch)
        if len(messages) >= expected:
            break
    return messages
