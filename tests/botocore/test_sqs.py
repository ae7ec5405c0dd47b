"""SQS producer → ReceiveMessage → the Lambda SQS record → extract: parent is the producer span."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator

import boto3
import pytest
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind

from otel_serverless import attributes as attr
from otel_serverless.propagation import sqs
from otel_serverless.propagation._carrier import RESERVED_KEY
from tests.botocore.conftest import lambda_sqs_record, producer_spans, receive_all


def queue(name: str = "orders") -> tuple[object, str, str]:
    client = boto3.client("sqs")
    url = client.create_queue(QueueName=name)["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return client, url, arn


def user_attributes(count: int) -> dict[str, dict[str, str]]:
    return {f"attr{i}": {"DataType": "String", "StringValue": f"value-{i}"} for i in range(count)}


def parent_span_id(ctx: object) -> int:
    span_context = trace.get_current_span(ctx).get_span_context()  # type: ignore[arg-type]
    assert span_context.is_valid and span_context.is_remote
    return span_context.span_id


def test_send_message_parent_is_producer_span(instrumented: None, spans: object, parent: Span) -> None:
    client, url, arn = queue()
    attributes = user_attributes(2)
    before = copy.deepcopy(attributes)
    client.send_message(QueueUrl=url, MessageBody="order 1", MessageAttributes=attributes)
    assert attributes == before, "the caller's attributes were changed"

    (message,) = receive_all(client, url)
    (producer,) = producer_spans(spans, "send orders")
    assert producer.kind is SpanKind.PRODUCER
    assert producer.parent.span_id == parent.get_span_context().span_id
    assert producer.attributes[attr.MESSAGING_SYSTEM] == "aws_sqs"
    assert producer.attributes[attr.MESSAGING_DESTINATION_NAME] == "orders"
    assert producer.attributes[attr.MESSAGING_OPERATION_TYPE] == "send"
    assert producer.attributes[attr.MESSAGING_MESSAGE_ID] == message["MessageId"]
    assert producer.attributes[attr.PROPAGATION_INJECTED] == 1
    assert producer.attributes[attr.PROPAGATION_SKIPPED] == 0
    assert producer.attributes[attr.PROPAGATION_CHANNELS] == ("message_attribute",)
    assert attr.PROPAGATION_SKIP_REASONS not in producer.attributes
    # The message is the user's, plus exactly one slot.
    assert message["Body"] == "order 1"
    assert set(message["MessageAttributes"]) == {*before, RESERVED_KEY}
    for name, value in before.items():
        assert message["MessageAttributes"][name]["StringValue"] == value["StringValue"]

    record = lambda_sqs_record(message, arn)
    assert parent_span_id(sqs.extract_lambda_record(record)) == producer.context.span_id
    assert parent_span_id(sqs.extract_message(message)) == producer.context.span_id
    ctx = sqs.extract_lambda_record(record)
    assert trace.get_current_span(ctx).get_span_context().trace_id == parent.get_span_context().trace_id


def test_send_message_batch_every_entry(instrumented: None, spans: object, parent: Span) -> None:
    client, url, arn = queue()
    entries = [{"Id": str(i), "MessageBody": f"m{i}", "MessageAttributes": user_attributes(i)} for i in range(5)]
    before = copy.deepcopy(entries)
    client.send_message_batch(QueueUrl=url, Entries=entries)
    assert entries == before
    (producer,) = producer_spans(spans, "send orders")
    assert producer.attributes[attr.MESSAGING_BATCH_MESSAGE_COUNT] == 5
    assert producer.attributes[attr.PROPAGATION_INJECTED] == 5
    messages = receive_all(client, url, expected=5)
    assert len(messages) == 5
    for message in messages:
        assert len(message["MessageAttributes"]) == int(message["Body"][1:]) + 1
        assert parent_span_id(sqs.extract_lambda_record(lambda_sqs_record(message, arn))) == producer.context.span_id


def test_all_ten_slots_taken_falls_back_to_aws_trace_header(instrumented: None, spans: object, parent: Span) -> None:
    client, url, arn = queue()
    attributes = user_attributes(10)
    client.send_message(QueueUrl=url, MessageBody="full", MessageAttributes=attributes)
    (message,) = receive_all(client, url)
    assert set(message["MessageAttributes"]) == set(attributes), "no eleventh attribute"
    assert "AWSTraceHeader" in message["Attributes"]
    (producer,) = producer_spans(spans)
    assert producer.attributes[attr.PROPAGATION_CHANNELS] == ("aws_trace_header",)
    ctx = sqs.extract_lambda_record(lambda_sqs_record(message, arn))
    span_context = trace.get_current_span(ctx).get_span_context()
    # X-Ray carries the full 128-bit trace id and the parent span id: lossless.
    assert span_context.trace_id == producer.context.trace_id
    assert span_context.span_id == producer.context.span_id


def test_a_batch_falls_back_per_entry(instrumented: None, spans: object, parent: Span) -> None:
    # The header is built only when an entry could not take the slot: here one of two.
    client, url, arn = queue()
    entries = [
        {"Id": "full", "MessageBody": "full", "MessageAttributes": user_attributes(10)},
        {"Id": "free", "MessageBody": "free"},
    ]
    response = client.send_message_batch(QueueUrl=url, Entries=entries)
    assert len(response["Successful"]) == 2
    (producer,) = producer_spans(spans)
    assert producer.attributes[attr.PROPAGATION_INJECTED] == 2
    assert producer.attributes[attr.PROPAGATION_CHANNELS] == ("aws_trace_header", "message_attribute")
    messages = {m["Body"]: m for m in receive_all(client, url, expected=2)}
    assert set(messages["full"]["MessageAttributes"]) == set(user_attributes(10)), "no eleventh attribute"
    ctx = sqs.extract_lambda_record(lambda_sqs_record(messages["free"], arn))
    assert parent_span_id(ctx) == producer.context.span_id


@pytest.mark.parametrize("batch", [False, True])
def test_nothing_fits_send_succeeds_skip_counted_warned_once(
    instrumented: None, spans: object, parent: Span, caplog: pytest.LogCaptureFixture, batch: bool
) -> None:
    client, url, _ = queue()
    attributes = user_attributes(10)
    system = {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793"}}
    caplog.set_level(logging.WARNING, logger="otel_serverless")
    for i in range(3):
        if batch:
            entry = {
                "Id": "1",
                "MessageBody": f"m{i}",
                "MessageAttributes": attributes,
                "MessageSystemAttributes": system,
            }
            response = client.send_message_batch(QueueUrl=url, Entries=[entry])
            assert len(response["Successful"]) == 1
        else:
            response = client.send_message(
                QueueUrl=url, MessageBody=f"m{i}", MessageAttributes=attributes, MessageSystemAttributes=system
            )
            assert response["MessageId"]
    messages = receive_all(client, url, expected=3)
    assert len(messages) == 3
    for message in messages:
        assert set(message["MessageAttributes"]) == set(attributes)
        if not batch:  # moto keeps system attributes of SendMessage only
            assert message["Attributes"]["AWSTraceHeader"] == system["AWSTraceHeader"]["StringValue"]
    for producer in producer_spans(spans):
        assert producer.attributes[attr.PROPAGATION_SKIPPED] == 1
        assert producer.attributes[attr.PROPAGATION_SKIP_REASONS] == ("no_free_slot",)
    warnings = [r for r in caplog.records if "trace context not added" in r.getMessage()]
    assert len(warnings) == 1


def test_size_limit_is_never_crossed(instrumented: None, spans: object, parent: Span) -> None:
    client, url, _ = queue()
    # Exactly at the limit: our slot would push it over, so the message goes unchanged.
    body = "x" * (262_144 - len("attr0") - len("String") - len("value-0"))
    response = client.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=user_attributes(1))
    assert response["MessageId"]
    (message,) = receive_all(client, url)
    assert set(message["MessageAttributes"]) == {"attr0"}
    assert "AWSTraceHeader" not in message["Attributes"]
    assert sqs.message_size({"MessageBody": body, "MessageAttributes": user_attributes(1)}) == 262_144
    (producer,) = producer_spans(spans)
    assert producer.attributes[attr.PROPAGATION_SKIP_REASONS] == ("size_limit",)


def test_size_limit_uses_fallback_when_it_fits(
    instrumented: None, spans: object, parent: Span, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A queue configured for 2 KiB: the slot (~80 bytes) does not fit, AWSTraceHeader (~90) neither.
    monkeypatch.setenv("OTEL_SERVERLESS_SQS_MAX_MESSAGE_BYTES", "2048")
    client, url, _ = queue()
    client.set_queue_attributes(QueueUrl=url, Attributes={"MaximumMessageSize": "2048"})
    client.send_message(QueueUrl=url, MessageBody="y" * 2000)
    client.send_message(QueueUrl=url, MessageBody="y" * 1900)
    bodies = {len(m["Body"]): m for m in receive_all(client, url, expected=2)}
    assert RESERVED_KEY not in (bodies[2000].get("MessageAttributes") or {})
    assert RESERVED_KEY in bodies[1900]["MessageAttributes"]


def test_batch_total_stays_within_limit(instrumented: None, spans: object, parent: Span) -> None:
    client, url, _ = queue()
    # Ten entries that together sit just under 256 KiB: only the room left may be used.
    size = (262_144 - 250) // 10
    entries = [{"Id": str(i), "MessageBody": "z" * size} for i in range(10)]
    room = 262_144 - size * 10
    response = client.send_message_batch(QueueUrl=url, Entries=entries)
    assert len(response["Successful"]) == 10
    (producer,) = producer_spans(spans)
    injected = producer.attributes[attr.PROPAGATION_INJECTED]
    assert 0 < injected < 10
    grown = sum(sqs.message_size(m) - size for m in _sent(client, url))
    assert grown <= room


def _sent(client: object, url: str) -> list[dict]:
    messages = receive_all(client, url, expected=10)
    return [
        {
            "MessageBody": m["Body"],
            "MessageAttributes": {
                k: {"DataType": v["DataType"], "StringValue": v["StringValue"]}
                for k, v in (m.get("MessageAttributes") or {}).items()
            },
        }
        for m in messages
    ]


def test_forwarded_message_slot_is_replaced_not_added(instrumented: None, spans: object, parent: Span) -> None:
    client, url, _ = queue()
    client.send_message(QueueUrl=url, MessageBody="first")
    (first,) = receive_all(client, url)
    forwarded = {
        k: {"DataType": v["DataType"], "StringValue": v["StringValue"]} for k, v in first["MessageAttributes"].items()
    }
    client.send_message(QueueUrl=url, MessageBody="second", MessageAttributes=forwarded)
    (second,) = receive_all(client, url)
    assert set(second["MessageAttributes"]) == {RESERVED_KEY}
    second_span = producer_spans(spans)[-1]
    assert parent_span_id(sqs.extract_message(second)) == second_span.context.span_id


def test_user_errors_pass_through_unchanged(instrumented: None, spans: object, parent: Span) -> None:
    client = boto3.client("sqs")
    with pytest.raises(client.exceptions.QueueDoesNotExist) as raised:
        client.send_message(QueueUrl=f"{client.meta.endpoint_url}/123456789012/missing", MessageBody="x")
    assert raised.value.response["Error"]["Code"]
    (producer,) = producer_spans(spans)
    assert producer.status.status_code is trace.StatusCode.ERROR
    assert producer.attributes[attr.ERROR_TYPE]


def test_invalid_params_raise_botocore_error_as_without_us(instrumented: None, spans: object) -> None:
    from botocore.exceptions import ParamValidationError

    client, url, _ = queue()
    with pytest.raises(ParamValidationError):
        client.send_message(QueueUrl=url, MessageBody="x", MessageAttributes="not a dict")  # type: ignore[arg-type]
    with pytest.raises(ParamValidationError):
        client.send_message_batch(QueueUrl=url, Entries=["nonsense"])  # type: ignore[list-item]


@pytest.fixture
def no_propagators() -> Iterator[None]:
    from opentelemetry import propagate
    from opentelemetry.propagators.composite import CompositePropagator

    previous = propagate.get_global_textmap()
    propagate.set_global_textmap(CompositePropagator([]))  # what OTEL_PROPAGATORS=none builds
    yield
    propagate.set_global_textmap(previous)


def test_propagators_none_carries_nothing_not_even_aws_trace_header(
    instrumented: None, spans: object, parent: Span, no_propagators: None
) -> None:
    client, url, _ = queue()
    client.send_message(QueueUrl=url, MessageBody="free slots")
    client.send_message(QueueUrl=url, MessageBody="full", MessageAttributes=user_attributes(10))
    client.send_message_batch(QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "batch"}])
    messages = receive_all(client, url)
    assert len(messages) == 3
    for message in messages:
        assert RESERVED_KEY not in message.get("MessageAttributes", {})
        assert "AWSTraceHeader" not in message.get("Attributes", {})


def test_with_capture_on_the_producer_span_shows_the_message_it_sent_scrubbed(
    instrumented: None, spans: object, parent: Span, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_CAPTURE_PAYLOAD", "true")
    client, url, _ = queue()
    client.send_message(QueueUrl=url, MessageBody='{"post": 7, "password": "hunter2"}')
    client.send_message_batch(QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "a"}, {"Id": "2", "MessageBody": "b"}])
    single, batch = producer_spans(spans)
    assert json.loads(single.attributes[attr.PAYLOAD_MESSAGE]) == {"post": 7, "password": "[REDACTED]"}
    assert json.loads(batch.attributes[attr.PAYLOAD_MESSAGE]) == ["a", "b"]


def test_capture_is_off_by_default_on_producer_spans(instrumented: None, spans: object, parent: Span) -> None:
    client, url, _ = queue()
    client.send_message(QueueUrl=url, MessageBody="quiet")
    (producer,) = producer_spans(spans)
    assert attr.PAYLOAD_MESSAGE not in producer.attributes
