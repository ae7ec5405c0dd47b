"""The consumer contract: every getter, on real Lambda event samples with context added the producer's way.

Each test builds the event exactly as Lambda delivers it (samples from
tests/events), puts in what our setter (or another tool) writes, and checks the
extracted parent is the producer span. Malformed input yields None, never an
exception and never the current span.
"""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace
from typing import Any

import pytest
from opentelemetry import baggage, trace
from opentelemetry.trace import Span

from otel_serverless.propagation import (
    _carrier,
    dynamodb,
    eventbridge,
    kinesis,
    lambda_invoke,
    s3,
    sns,
    sqs,
    stepfunctions,
    xray,
)
from otel_serverless.propagation._carrier import RESERVED_KEY
from tests.propagation.conftest import load_event, parent_of

VALID = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def same_span(ctx: Any, span: Span) -> None:
    remote = parent_of(ctx)
    local = span.get_span_context()
    assert (remote.trace_id, remote.span_id) == (local.trace_id, local.span_id)
    assert remote.trace_flags.sampled


def slot(span: Span) -> str:
    return _carrier.encode(_carrier.inject_fields())


# -- SQS --------------------------------------------------------------------------------


def test_sqs_lambda_record_slot(producer: Span) -> None:
    record = load_event("sqsEvent.json")["Records"][0]
    record["messageAttributes"][RESERVED_KEY] = {"stringValue": slot(producer), "dataType": "String"}
    ctx = sqs.extract_lambda_record(record)
    same_span(ctx, producer)
    assert baggage.get_baggage("tenant", ctx) == "acme"


def test_sqs_receive_message_shape(producer: Span) -> None:
    message = {
        "MessageId": "m",
        "Body": "hello",
        "MessageAttributes": {RESERVED_KEY: {"StringValue": slot(producer), "DataType": "String"}},
    }
    same_span(sqs.extract_message(message), producer)


def test_sqs_aws_trace_header(producer: Span) -> None:
    record = load_event("sqsEvent.json")["Records"][1]
    record["attributes"]["AWSTraceHeader"] = xray.header()
    same_span(sqs.extract_lambda_record(record), producer)
    message = {"Body": "x", "Attributes": {"AWSTraceHeader": xray.header()}}
    same_span(sqs.extract_message(message), producer)


def test_sqs_slot_wins_over_aws_trace_header(producer: Span) -> None:
    record = load_event("sqsEvent.json")["Records"][0]
    record["attributes"]["AWSTraceHeader"] = (
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    )
    record["messageAttributes"][RESERVED_KEY] = {"stringValue": slot(producer), "dataType": "String"}
    same_span(sqs.extract_lambda_record(record), producer)


def test_sqs_upstream_botocore_attributes(producer: Span) -> None:
    # opentelemetry-instrumentation-botocore writes one attribute per field.
    fields = _carrier.inject_fields()
    record = load_event("sqsEvent.json")["Records"][0]
    for name, value in fields.items():
        record["messageAttributes"][name] = {"stringValue": value, "dataType": "String"}
    same_span(sqs.extract_lambda_record(record), producer)


def test_sqs_datadog_attribute_with_w3c(producer: Span) -> None:
    record = load_event("sqsEvent.json")["Records"][0]
    headers = {"x-datadog-trace-id": "1", "x-datadog-parent-id": "2", **_carrier.inject_fields()}
    record["messageAttributes"]["_datadog"] = {"stringValue": json.dumps(headers), "dataType": "String"}
    same_span(sqs.extract_lambda_record(record), producer)


def test_sqs_datadog_only_headers() -> None:
    trace_id = 0x640CFD8D00000000_0000000000003039
    headers = {
        "x-datadog-trace-id": str(trace_id & (2**64 - 1)),
        "x-datadog-parent-id": "987654321",
        "x-datadog-sampling-priority": "1",
        "x-datadog-tags": "_dd.p.dm=-0,_dd.p.tid=640cfd8d00000000",
    }
    binary = base64.b64encode(json.dumps(headers).encode()).decode()
    record = load_event("sqsEvent.json")["Records"][0]
    record["messageAttributes"]["_datadog"] = {"binaryValue": binary, "dataType": "Binary"}
    remote = parent_of(sqs.extract_lambda_record(record))
    assert (remote.trace_id, remote.span_id) == (trace_id, 987654321)


def test_sqs_body_is_sns_envelope(producer: Span) -> None:
    record = load_event("snsSqsEvent.json")["Records"][0]
    envelope = json.loads(record["body"])
    envelope["MessageAttributes"] = {RESERVED_KEY: {"Type": "String", "Value": slot(producer)}}
    record["body"] = json.dumps(envelope, indent=2)
    same_span(sqs.extract_lambda_record(record), producer)


def test_sqs_body_is_eventbridge_event(producer: Span) -> None:
    event = load_event("eventBridgeEvent.json")
    event["detail"][RESERVED_KEY] = _carrier.inject_fields()
    record = load_event("sqsEvent.json")["Records"][1]
    record["body"] = json.dumps(event)
    same_span(sqs.extract_lambda_record(record), producer)


def test_sqs_samples_without_context() -> None:
    for name in ("sqsEvent.json", "snsSqsEvent.json", "snsSqsFifoEvent.json", "sqsDlqTriggerEvent.json"):
        for record in load_event(name)["Records"]:
            assert sqs.extract_lambda_record(record) is None


HOSTILE: list[Any] = [
    None,
    "text",
    42,
    [],
    {"stringValue": None},
    {"stringValue": "{not json"},
    {"stringValue": "[1,2]"},
    {"stringValue": json.dumps({"traceparent": "00-00000000000000000000000000000000-0000000000000000-01"})},
    {"stringValue": json.dumps({"traceparent": "zz-" + "f" * 60})},
    {"stringValue": json.dumps({"traceparent": 5})},
    {"stringValue": "{" + " " * 20_000 + "}"},
    {"stringValue": "[" * 100_000},
    {"binaryValue": "%%% not base64"},
    {"Type": "Binary", "Value": "@@@"},
]


@pytest.mark.parametrize("attribute", HOSTILE)
def test_sqs_hostile_slot_is_none_and_not_the_current_span(producer: Span, attribute: Any) -> None:
    record = load_event("sqsEvent.json")["Records"][0]
    record["messageAttributes"][RESERVED_KEY] = attribute
    record["attributes"]["AWSTraceHeader"] = "Root=garbage;Parent=;Sampled=9"
    assert sqs.extract_lambda_record(record) is None
    assert sqs.extract_message({"MessageAttributes": {RESERVED_KEY: attribute}}) is None


@pytest.mark.parametrize("record", [None, 1, "x", [], {}, {"messageAttributes": []}, {"body": 3, "attributes": 4}])
def test_sqs_malformed_records(record: Any) -> None:
    assert sqs.extract_lambda_record(record) is None
    assert sqs.extract_message(record) is None


# -- SNS --------------------------------------------------------------------------------


def test_sns_lambda_record(producer: Span) -> None:
    record = load_event("snsEvent.json")["Records"][0]
    record["Sns"]["MessageAttributes"][RESERVED_KEY] = {"Type": "String", "Value": slot(producer)}
    same_span(sns.extract_lambda_record(record), producer)
    assert sns.extract_lambda_record(load_event("snsEvent.json")["Records"][0]) is None


def test_sns_envelope_and_eventbridge_message(producer: Span) -> None:
    envelope = {
        "Type": "Notification",
        "MessageAttributes": {RESERVED_KEY: {"Type": "String", "Value": slot(producer)}},
    }
    same_span(sns.extract_envelope(envelope), producer)
    event = load_event("eventBridgeEvent.json")
    event["detail"][RESERVED_KEY] = _carrier.inject_fields()
    same_span(sns.extract_envelope({"Type": "Notification", "Message": json.dumps(event)}), producer)


@pytest.mark.parametrize("record", [None, {"Sns": None}, {"Sns": {"MessageAttributes": "x", "Message": 5}}])
def test_sns_malformed(record: Any) -> None:
    assert sns.extract_lambda_record(record) is None
    assert sns.extract_envelope(record) is None


# -- EventBridge, Kinesis, Step Functions, Lambda ---------------------------------------


def test_eventbridge_event(producer: Span) -> None:
    event = load_event("eventBridgeEvent.json")
    assert eventbridge.extract_event(event) is None
    event["detail"][RESERVED_KEY] = _carrier.inject_fields()
    same_span(eventbridge.extract_event(event), producer)
    event["detail"][RESERVED_KEY] = slot(producer)  # JSON text is accepted too
    same_span(eventbridge.extract_event(event), producer)
    assert eventbridge.extract_event({"detail": [1]}) is None


def test_kinesis_record(producer: Span) -> None:
    record = load_event("kinesisStreamEventOneRecord.json")["Records"][0]
    assert kinesis.extract_record(record) is None
    data = json.loads(base64.b64decode(record["kinesis"]["data"]))
    data[RESERVED_KEY] = _carrier.inject_fields()
    record["kinesis"]["data"] = base64.b64encode(json.dumps(data).encode()).decode()
    same_span(kinesis.extract_record(record), producer)
    same_span(kinesis.extract_data(json.dumps(data).encode()), producer)


@pytest.mark.parametrize("data", ["%%%", base64.b64encode(b"\xff\xfe").decode(), base64.b64encode(b'"_otel"').decode()])
def test_kinesis_malformed(data: str) -> None:
    assert kinesis.extract_record({"kinesis": {"data": data}}) is None
    assert kinesis.extract_record({"kinesis": None}) is None


def test_kinesis_correlation_key_matches_record() -> None:
    record = load_event("kinesisStreamEventOneRecord.json")["Records"][0]
    shard, seq = record["eventID"].split(":")
    assert kinesis.correlation_key_for_record(record) == kinesis.correlation_key("lambda-stream", shard, seq)


def test_stepfunctions_input(producer: Span) -> None:
    payload = {"order": 1, RESERVED_KEY: _carrier.inject_fields()}
    same_span(stepfunctions.extract_input(payload), producer)
    same_span(stepfunctions.extract_input(json.dumps(payload)), producer)
    for bad in (None, 3, "[]", "{", {"order": 1}, {RESERVED_KEY: "nope"}):
        assert stepfunctions.extract_input(bad) is None


def test_lambda_client_context(producer: Span) -> None:
    custom = {"user": "kept", **_carrier.inject_fields()}
    same_span(lambda_invoke.extract_client_context(SimpleNamespace(custom=custom, env=None, client=None)), producer)
    same_span(lambda_invoke.extract_client_context({"custom": custom}), producer)
    for bad in (None, {}, {"custom": None}, SimpleNamespace(custom="x"), {"custom": {"traceparent": "bad"}}):
        assert lambda_invoke.extract_client_context(bad) is None


# -- DynamoDB and S3 correlation --------------------------------------------------------


def test_dynamodb_stream_record_opt_in(producer: Span) -> None:
    record = load_event("dynamoStreamEvent.json")["Records"][0]
    assert dynamodb.extract_stream_record(record) is None
    record["dynamodb"]["NewImage"][RESERVED_KEY] = {"S": slot(producer)}
    same_span(dynamodb.extract_stream_record(record), producer)
    assert dynamodb.extract_stream_record({"dynamodb": {"NewImage": {RESERVED_KEY: "x"}}}) is None


def test_dynamodb_correlation_key_matches_stream_record() -> None:
    record = load_event("dynamoStreamEvent.json")["Records"][0]
    record["eventSourceARN"] = "arn:aws:dynamodb:us-west-2:123456789012:table/Orders/stream/2024-01-01T00:00:00.000"
    producer_key = dynamodb.correlation_key("Orders", {"Id": {"N": "101.0"}})
    assert dynamodb.correlation_key_for_record(record) == producer_key
    assert dynamodb.correlation_key("Orders", {"Id": {"N": "102"}}) != producer_key
    assert dynamodb.correlation_key("Orders", {"Id": {"B": b"\x01"}}) == dynamodb.correlation_key(
        "Orders", {"Id": {"B": "AQ=="}}
    )
    assert dynamodb.correlation_key("Orders", {"Id": {"L": []}}) is None


def test_s3_correlation_key_matches_notification() -> None:
    record = load_event("s3Event.json")["Records"][0]
    record["s3"]["object"]["key"] = "reports/2024+Q1%2Ffinal.csv"
    expected = s3.correlation_key(
        "lambda-artifacts-deafc19498e3f2df", "reports/2024 Q1/final.csv", '"b21b84d653bb07b05b1e6b33684dc11b"'
    )
    assert s3.correlation_key_for_record(record) == expected
    record["s3"]["object"]["versionId"] = "v2"
    assert s3.correlation_key_for_record(record) == expected, "the ETag decides; versions are not always notified"
    del record["s3"]["object"]["eTag"]
    assert s3.correlation_key_for_record(record) == s3.correlation_key(
        "lambda-artifacts-deafc19498e3f2df", "reports/2024 Q1/final.csv", version="v2"
    )
    assert s3.correlation_key_for_record({"s3": {"bucket": 1}}) is None


def test_s3_metadata(producer: Span) -> None:
    metadata, outcome = s3.inject_metadata({"owner": "me"}, _carrier.inject_fields())
    assert outcome.injected and metadata is not None
    same_span(s3.extract_metadata(metadata), producer)
    assert s3.extract_metadata({"otel-context": "{"}) is None


def test_extraction_never_returns_the_current_span(producer: Span) -> None:
    # A failed extraction must not hand back the active span as if it were remote.
    assert trace.get_current_span().get_span_context().is_valid
    assert _carrier.extract({"traceparent": "garbage"}) is None
    assert _carrier.extract({"traceparent": VALID}) is not None
