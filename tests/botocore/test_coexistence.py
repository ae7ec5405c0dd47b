"""With and without upstream opentelemetry-instrumentation-botocore: one span per call, one context per message.

Both instrumentation orders are tested (whoever wraps last is outermost). The
decision is documented in otel_serverless/botocore/_upstream.py.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator

import boto3
import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
from opentelemetry.trace import Span

import otel_serverless.botocore as ours
from otel_serverless import attributes as attr
from otel_serverless.propagation import lambda_invoke, s3, sns, sqs
from otel_serverless.propagation._carrier import RESERVED_KEY
from tests.botocore.conftest import producer_spans, receive_all
from tests.botocore.lambda_endpoint import lambda_endpoint

UPSTREAM = "opentelemetry.instrumentation.botocore"


@pytest.fixture(params=["upstream-first", "ours-first"])
def both(request: pytest.FixtureRequest, aws: str) -> Iterator[str]:
    order = request.param
    upstream = BotocoreInstrumentor()
    if order == "upstream-first":
        upstream.instrument()
        ours.instrument()
    else:
        ours.instrument()
        upstream.instrument()
    yield order
    # Undo in reverse order: upstream's uninstrument removes whatever wrapper is outermost.
    if order == "upstream-first":
        ours.uninstrument()
        upstream.uninstrument()
    else:
        upstream.uninstrument()
        ours.uninstrument()


def upstream_spans(spans: object, operation: str) -> list[object]:
    return [
        s
        for s in spans.get_finished_spans()  # type: ignore[attr-defined]
        if s.instrumentation_scope.name.startswith(UPSTREAM) and s.attributes.get("rpc.method") == operation
    ]


def span_id(ctx: object) -> int:
    span_context = trace.get_current_span(ctx).get_span_context()  # type: ignore[arg-type]
    assert span_context.is_valid and span_context.is_remote
    return span_context.span_id


def test_sns_one_span_one_slot(both: str, spans: object, parent: Span) -> None:
    sns_client, sqs_client = boto3.client("sns"), boto3.client("sqs")
    topic = sns_client.create_topic(Name="t")["TopicArn"]
    url = sqs_client.create_queue(QueueName="q")["QueueUrl"]
    arn = sqs_client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns_client.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    attributes = {"kind": {"DataType": "String", "StringValue": "x"}}
    before = copy.deepcopy(attributes)
    sns_client.publish(TopicArn=topic, Message="m", MessageAttributes=attributes)
    if both == "ours-first":
        # Upstream is outermost and writes into the caller's dict before we run: its mutation, not ours.
        attributes = before
    assert attributes == before
    assert producer_spans(spans) == [], "upstream owns the span: we open none"
    (publish,) = upstream_spans(spans, "Publish")
    assert publish.attributes[attr.PROPAGATION_INJECTED] == 1
    assert publish.attributes[attr.MESSAGING_DESTINATION_NAME] == "t"
    (message,) = receive_all(sqs_client, url)
    assert set(message["MessageAttributes"]) == {"kind", RESERVED_KEY}, "no traceparent/tracestate/baggage slots"
    assert span_id(sqs.extract_message(message)) == publish.context.span_id


def test_sqs_one_span_with_our_attributes(both: str, spans: object, parent: Span) -> None:
    client = boto3.client("sqs")
    url = client.create_queue(QueueName="q")["QueueUrl"]
    client.send_message(QueueUrl=url, MessageBody="b")
    assert producer_spans(spans) == []
    (send,) = upstream_spans(spans, "SendMessage")
    assert send.attributes[attr.MESSAGING_OPERATION_TYPE] == "send"
    (message,) = receive_all(client, url)
    assert span_id(sqs.extract_message(message)) == send.context.span_id


def test_excluded_services_carry_no_context_from_either(
    both: str, spans: object, parent: Span, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Excluded, we inject nothing; upstream's per-field SNS attributes are still taken out
    # (the fields are built for that alone), and upstream puts nothing into an SQS message.
    monkeypatch.setenv("OTEL_SERVERLESS_PROPAGATION_EXCLUDE", "sns,sqs")
    sns_client, sqs_client = boto3.client("sns"), boto3.client("sqs")
    topic = sns_client.create_topic(Name="t")["TopicArn"]
    url = sqs_client.create_queue(QueueName="q")["QueueUrl"]
    arn = sqs_client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns_client.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    sns_client.publish(
        TopicArn=topic, Message="m", MessageAttributes={"kind": {"DataType": "String", "StringValue": "x"}}
    )
    sqs_client.send_message(QueueUrl=url, MessageBody="b")
    sent, published = sorted(receive_all(sqs_client, url, expected=2), key=lambda message: message["Body"])  # "b", "m"
    assert set(published["MessageAttributes"]) == {"kind"}, "upstream's traceparent/tracestate attributes removed"
    assert "MessageAttributes" not in sent
    (publish,) = upstream_spans(spans, "Publish")
    (send,) = upstream_spans(spans, "SendMessage")
    assert publish.attributes[attr.MESSAGING_DESTINATION_NAME] == "t"
    assert send.attributes[attr.MESSAGING_OPERATION_TYPE] == "send"
    assert attr.PROPAGATION_INJECTED not in send.attributes


def test_response_recorded_on_upstream_span_in_both_orders(both: str, spans: object, parent: Span) -> None:
    # Upstream's span has ended when the call returns to a wrapper outside it (ours, when
    # upstream is instrumented first, as configure() does): the response is recorded inside.
    client = boto3.client("s3")
    client.create_bucket(Bucket="bucket-answers")
    answer = client.put_object(Bucket="bucket-answers", Key="k", Body=b"x")
    (put,) = upstream_spans(spans, "PutObject")
    assert put.attributes[attr.CORRELATION_ID] == s3.correlation_key("bucket-answers", "k", answer["ETag"])
    assert put.attributes[attr.AWS_REQUEST_ID] == answer["ResponseMetadata"]["RequestId"]
    assert producer_spans(spans) == []


def test_lambda_payload_not_rewritten(both: str, spans: object, parent: Span) -> None:
    payload = b'{"order": 1,  "headers": {"x": "y"}}'
    with lambda_endpoint() as endpoint:
        boto3.client("lambda", endpoint_url=endpoint.url).invoke(FunctionName="f", Payload=payload)
    (request,) = endpoint.received
    if both == "upstream-first":
        assert request.body == payload, "we saw the caller's bytes first and sent them back unchanged"
    else:
        # Upstream re-serialised before we ran: the JSON is the caller's again, the bytes are json.dumps'.
        assert json.loads(request.body) == json.loads(payload)
    (invoke,) = upstream_spans(spans, "Invoke")
    assert span_id(lambda_invoke.extract_client_context(endpoint.client_context())) == invoke.context.span_id


def test_upstream_alone_is_still_extracted(aws: str, spans: object, parent: Span) -> None:
    # Read-only compatibility: upstream's per-field attributes, without us.
    upstream = BotocoreInstrumentor()
    upstream.instrument()
    try:
        sns_client, sqs_client = boto3.client("sns"), boto3.client("sqs")
        topic = sns_client.create_topic(Name="t")["TopicArn"]
        url = sqs_client.create_queue(QueueName="q")["QueueUrl"]
        arn = sqs_client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns_client.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        sns_client.publish(TopicArn=topic, Message="m")
        (message,) = receive_all(sqs_client, url)
    finally:
        upstream.uninstrument()
    envelope = json.loads(message["Body"])
    assert "traceparent" in envelope["MessageAttributes"] and RESERVED_KEY not in envelope["MessageAttributes"]
    (publish,) = upstream_spans(spans, "Publish")
    assert span_id(sns.extract_envelope(envelope)) == publish.context.span_id
