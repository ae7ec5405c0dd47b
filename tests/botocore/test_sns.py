"""SNS producer → SQS subscriptions (raw and enveloped) and the SNS→Lambda record → extract."""

from __future__ import annotations

import copy
import json

import boto3
import pytest
from opentelemetry import trace
from opentelemetry.trace import Span

from otel_serverless import attributes as attr
from otel_serverless.propagation import sns, sqs
from otel_serverless.propagation._carrier import RESERVED_KEY
from tests.botocore.conftest import lambda_sqs_record, producer_spans, receive_all


def subscribed_queue(topic_arn: str, name: str, raw: bool, filter_policy: dict | None = None) -> tuple[str, str]:
    client = boto3.client("sqs")
    url = client.create_queue(QueueName=name)["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = {"RawMessageDelivery": "true" if raw else "false"}
    if filter_policy is not None:
        attributes["FilterPolicy"] = json.dumps(filter_policy)
    boto3.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes=attributes)
    return url, arn


def span_id(ctx: object) -> int:
    span_context = trace.get_current_span(ctx).get_span_context()  # type: ignore[arg-type]
    assert span_context.is_valid and span_context.is_remote
    return span_context.span_id


def lambda_sns_record(envelope: dict) -> dict:
    """The SNS→Lambda record: the same notification, under "Sns"."""
    return {"EventSource": "aws:sns", "EventVersion": "1.0", "Sns": envelope}


def test_publish_raw_and_enveloped_delivery(instrumented: None, spans: object, parent: Span) -> None:
    topic = boto3.client("sns").create_topic(Name="orders")["TopicArn"]
    raw_url, raw_arn = subscribed_queue(topic, "raw", raw=True)
    env_url, env_arn = subscribed_queue(topic, "enveloped", raw=False)
    attributes = {"kind": {"DataType": "String", "StringValue": "order"}}
    before = copy.deepcopy(attributes)
    boto3.client("sns").publish(TopicArn=topic, Message="hello", MessageAttributes=attributes)
    assert attributes == before
    (producer,) = producer_spans(spans, "send orders")
    assert producer.attributes[attr.MESSAGING_SYSTEM] == "aws.sns"
    assert producer.attributes[attr.AWS_SNS_TOPIC_ARN] == topic
    assert producer.attributes[attr.MESSAGING_MESSAGE_ID]
    client = boto3.client("sqs")

    (raw,) = receive_all(client, raw_url)
    assert raw["Body"] == "hello"
    assert set(raw["MessageAttributes"]) == {"kind", RESERVED_KEY}
    assert span_id(sqs.extract_lambda_record(lambda_sqs_record(raw, raw_arn))) == producer.context.span_id

    (enveloped,) = receive_all(client, env_url)
    envelope = json.loads(enveloped["Body"])
    assert envelope["Message"] == "hello"
    assert set(envelope["MessageAttributes"]) == {"kind", RESERVED_KEY}
    assert span_id(sqs.extract_lambda_record(lambda_sqs_record(enveloped, env_arn))) == producer.context.span_id
    assert span_id(sns.extract_envelope(envelope)) == producer.context.span_id
    assert span_id(sns.extract_lambda_record(lambda_sns_record(envelope))) == producer.context.span_id


def test_filter_policy_on_user_attribute_still_filters(instrumented: None, spans: object, parent: Span) -> None:
    topic = boto3.client("sns").create_topic(Name="filtered")["TopicArn"]
    url, arn = subscribed_queue(topic, "red-only", raw=True, filter_policy={"color": ["red"]})
    client = boto3.client("sns")
    for color in ("red", "blue", "red"):
        client.publish(
            TopicArn=topic, Message=color, MessageAttributes={"color": {"DataType": "String", "StringValue": color}}
        )
    client.publish(TopicArn=topic, Message="none")
    messages = receive_all(boto3.client("sqs"), url, expected=2)
    assert sorted(m["Body"] for m in messages) == ["red", "red"]
    for message in messages:
        assert set(message["MessageAttributes"]) == {"color", RESERVED_KEY}
        assert sqs.extract_lambda_record(lambda_sqs_record(message, arn)) is not None
    assert len(producer_spans(spans)) == 4
    assert all(s.attributes[attr.PROPAGATION_INJECTED] == 1 for s in producer_spans(spans))


def test_publish_batch_every_entry(instrumented: None, spans: object, parent: Span) -> None:
    topic = boto3.client("sns").create_topic(Name="batch")["TopicArn"]
    url, arn = subscribed_queue(topic, "batch-q", raw=True)
    entries = [{"Id": str(i), "Message": f"m{i}"} for i in range(3)]
    before = copy.deepcopy(entries)
    boto3.client("sns").publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
    assert entries == before
    (producer,) = producer_spans(spans)
    assert producer.attributes[attr.MESSAGING_BATCH_MESSAGE_COUNT] == 3
    messages = receive_all(boto3.client("sqs"), url, expected=3)
    assert len(messages) == 3
    for message in messages:
        assert span_id(sqs.extract_lambda_record(lambda_sqs_record(message, arn))) == producer.context.span_id


def test_ten_attributes_no_fallback_publish_succeeds(
    instrumented: None, spans: object, parent: Span, caplog: pytest.LogCaptureFixture
) -> None:
    topic = boto3.client("sns").create_topic(Name="full")["TopicArn"]
    url, _ = subscribed_queue(topic, "full-q", raw=True)
    attributes = {f"a{i}": {"DataType": "String", "StringValue": str(i)} for i in range(10)}
    assert boto3.client("sns").publish(TopicArn=topic, Message="m", MessageAttributes=attributes)["MessageId"]
    (message,) = receive_all(boto3.client("sqs"), url)
    assert set(message["MessageAttributes"]) == set(attributes)
    (producer,) = producer_spans(spans)
    assert producer.attributes[attr.PROPAGATION_SKIP_REASONS] == ("no_free_slot",)
    assert any("trace context not added" in r.getMessage() for r in caplog.records)


def test_size_limit(instrumented: None, spans: object, parent: Span) -> None:
    topic = boto3.client("sns").create_topic(Name="big")["TopicArn"]
    message = "b" * (262_144 - 40)
    assert boto3.client("sns").publish(TopicArn=topic, Message=message, Subject="s" * 10)["MessageId"]
    (producer,) = producer_spans(spans)
    assert producer.attributes[attr.PROPAGATION_SKIP_REASONS] == ("size_limit",)
    new, outcome = sns.inject_entry({"Message": "b" * (262_144 - 200)}, {"traceparent": "0" * 55})
    assert outcome.injected and sns.message_size(new) <= 262_144
