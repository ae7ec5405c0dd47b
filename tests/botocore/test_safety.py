"""Telemetry never breaks the call: broken propagators, suppression, idempotent (un)instrumentation."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from opentelemetry import propagate
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.trace import Span

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
    # instrument() covers every call out: upstream botocore instrumentation opens the span, ours annotates it.
    assert instrumentation.loaded() == {"botocore", "urllib3"}  # botocore sends through urllib3
    (sent,) = [s for s in spans.get_finished_spans() if s.name == "SQS.SendMessage"]  # type: ignore[attr-defined]
    assert sent.attributes[attr.PROPAGATION_INJECTED] == 1
    ours.uninstrument()
    ours.uninstrument()
    assert not ours.is_instrumented()
    client.send_message(QueueUrl=url, MessageBody="2")
    assert producer_spans(spans) == []
    bodies = {m["Body"]: m for m in receive_all(client, url, expected=2)}
    assert RESERVED_KEY in bodies["1"]["MessageAttributes"]
    assert "MessageAttributes" not in bodies["2"]


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
    # Upstream botocore instrumentation off: our span is the call's, and urllib3's instrumentation
    # (which configure() loads) opens no second one for the same request.
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
    names = [s.instrumentation_scope.name for s in spans.get_finished_spans()]  # type: ignore[attr-defined]
    assert names.count("opentelemetry.instrumentation.urllib3") == 1, "CreateQueue, outside our registry, keeps its"
    assert send.attributes[attr.MESSAGING_OPERATION_TYPE] == "send"


def test_operations_outside_the_registry_are_untouched(instrumented: None, spans: object, parent: Span) -> None:
    client = boto3.client("sqs")
    client.create_queue(QueueName="q")
    client.list_queues()
    assert producer_spans(spans) == []
