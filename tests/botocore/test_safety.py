"""Telemetry never breaks the call: broken propagators, suppression, idempotent (un)instrumentation."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from opentelemetry import propagate
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.trace import Span, SpanKind

import otel_serverless
import otel_serverless.botocore as ours
from otel_serverless import _guard, instrumentation
from otel_serverless import attributes as attr
from otel_serverless.propagation._carrier import RESERVED_KEY
from tests.botocore.conftest import producer_spans, receive_all


class ExplodingPropagator(TextMapPropagator):
    """A third-party propagator with a bug: raises on inject."""

    def extract(self, carrier, context=None, getter=None):  # type: ignore[no-untyped-def]
        return context

    def inject(self, carrier, context=None, setter=None):  # type: ignore[no-untyped-def]
        raise RuntimeError("propagator bug")

    @property
    def fields(self) -> set[str]:
        return {"x-broken"}


@pytest.mark.swallows
def test_broken_propagator_never_breaks_the_send(instrumented: None, spans: object, parent: Span) -> None:
    previous = propagate.get_global_textmap()
    propagate.set_global_textmap(ExplodingPropagator())
    try:
        client = boto3.client("sqs")
        url = client.create_queue(QueueName="q")["QueueUrl"]
        attributes = {"a": {"DataType": "String", "StringValue": "1"}}
        assert client.send_message(QueueUrl=url, MessageBody="body", MessageAttributes=attributes)["MessageId"]
    finally:
        propagate.set_global_textmap(previous)
    (message,) = receive_all(client, url)
    assert message["Body"] == "body" and set(message["MessageAttributes"]) == {"a"}
    assert [key for key, _ in _guard.swallowed] == ["botocore.inject"]
    assert len(producer_spans(spans)) == 1


@pytest.fixture
def calls_out() -> Iterator[None]:
    """otel_serverless.instrument() loads upstream instrumentors for good: undo that after the test."""
    yield
    instrumentation.reset_for_tests()


@pytest.mark.instrumentations
def test_instrument_is_idempotent_and_uninstrument_restores(
    aws: str, spans: object, parent: Span, calls_out: None
) -> None:
    client = boto3.client("sqs")
    url = client.create_queue(QueueName="q")["QueueUrl"]
    otel_serverless.instrument()
    otel_serverless.instrument()
    ours.instrument()
    assert ours.is_instrumented()
    client.send_message(QueueUrl=url, MessageBody="1")
    # instrument() covers every call out: ours opens the AWS call's span; upstream botocore
    # instrumentation is not loaded (OTEL_SERVERLESS_BOTOCORE_UPSTREAM), urllib3's is (botocore sends
    # through it) and opens no second span under ours.
    assert instrumentation.loaded() == {"urllib3"}
    (sent,) = producer_spans(spans, "send q")
    assert sent.attributes[attr.PROPAGATION_INJECTED] == 1
    assert [s.name for s in spans.get_finished_spans()] == ["send q"]  # type: ignore[attr-defined]
    ours.uninstrument()
    ours.uninstrument()
    assert not ours.is_instrumented()
    client.send_message(QueueUrl=url, MessageBody="2")
    assert producer_spans(spans) == [sent]
    bodies = {m["Body"]: m for m in receive_all(client, url, expected=2)}
    assert RESERVED_KEY in bodies["1"]["MessageAttributes"]
    assert "MessageAttributes" not in bodies["2"]


@pytest.mark.instrumentations
def test_upstream_opens_the_span_when_asked(
    aws: str, spans: object, parent: Span, calls_out: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_BOTOCORE_UPSTREAM", "true")
    client = boto3.client("sqs")
    url = client.create_queue(QueueName="q")["QueueUrl"]
    otel_serverless.instrument()
    client.send_message(QueueUrl=url, MessageBody="1")
    assert instrumentation.loaded() == {"botocore", "urllib3"}
    # Upstream's span, with our attributes and our one copy of the context.
    (sent,) = spans.get_finished_spans()  # type: ignore[attr-defined]
    assert (sent.name, sent.instrumentation_scope.name) == (
        "SQS.SendMessage",
        "opentelemetry.instrumentation.botocore.sqs",
    )
    assert sent.attributes[attr.PROPAGATION_INJECTED] == 1
    (message,) = receive_all(client, url)
    assert set(message["MessageAttributes"]) == {RESERVED_KEY}


def test_suppressed_instrumentation_changes_nothing(instrumented: None, spans: object, parent: Span) -> None:
    client = boto3.client("sqs")
    url = client.create_queue(QueueName="q")["QueueUrl"]
    with suppress_instrumentation():
        client.send_message(QueueUrl=url, MessageBody="quiet")
    assert producer_spans(spans) == []
    (message,) = receive_all(client, url)
    assert "MessageAttributes" not in message


def test_excluded_service_is_traced_but_unchanged(
    instrumented: None, spans: object, parent: Span, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_PROPAGATION_EXCLUDE", "sqs, kinesis")
    client = boto3.client("sqs")
    url = client.create_queue(QueueName="q")["QueueUrl"]
    client.send_message(QueueUrl=url, MessageBody="x")
    assert len(producer_spans(spans)) == 1
    (message,) = receive_all(client, url)
    assert "MessageAttributes" not in message


@pytest.mark.instrumentations
def test_one_span_per_call_with_http_instrumentation_beneath(instrumented: None, spans: object, parent: Span) -> None:
    # Our span is the call's, and urllib3's instrumentation (which configure() loads) opens no
    # second one for the same request: not for the send, not for CreateQueue.
    from opentelemetry.instrumentation.urllib3 import URLLib3Instrumentor  # the instrumentations extra

    http = URLLib3Instrumentor()
    http.instrument()
    try:
        client = boto3.client("sqs")
        url = client.create_queue(QueueName="q")["QueueUrl"]
        client.send_message(QueueUrl=url, MessageBody="x")
    finally:
        http.uninstrument()
    (send,) = producer_spans(spans)
    finished = spans.get_finished_spans()  # type: ignore[attr-defined]
    assert [(s.name, s.instrumentation_scope.name) for s in finished] == [
        ("SQS.CreateQueue", "otel_serverless.botocore"),
        ("send q", "otel_serverless.botocore"),
    ]
    assert send.attributes[attr.MESSAGING_OPERATION_TYPE] == "send"


def test_operations_outside_the_registry_are_traced_and_untouched(
    instrumented: None, spans: object, parent: Span
) -> None:
    """Every other call is one CLIENT span named as upstream names it, its request unchanged."""
    client = boto3.client("sqs")
    url = client.create_queue(QueueName="q")["QueueUrl"]
    client.list_queues()
    assert producer_spans(spans) == []
    finished = spans.get_finished_spans()  # type: ignore[attr-defined]
    assert [s.name for s in finished] == ["SQS.CreateQueue", "SQS.ListQueues"]
    for span in finished:
        assert span.kind is SpanKind.CLIENT
        assert span.parent is not None and span.parent.span_id == parent.get_span_context().span_id
        assert (span.attributes[attr.RPC_SYSTEM], span.attributes[attr.RPC_SERVICE]) == ("aws-api", "SQS")
        assert span.attributes[attr.SERVER_ADDRESS] == "127.0.0.1"
        assert span.attributes[attr.HTTP_RESPONSE_STATUS_CODE] == 200
        assert span.attributes[attr.AWS_REQUEST_ID]
        assert not any(key.startswith("serverless.propagation") for key in span.attributes)
    assert finished[0].attributes[attr.RPC_METHOD] == "CreateQueue"
    assert client.list_queues()["QueueUrls"] == [url], "the queue was created as asked"
