"""EventBridge PutEvents → rule targets (SQS, SNS→SQS) → the event a consumer receives → extract."""

from __future__ import annotations

import copy
import json

import boto3
from opentelemetry import trace
from opentelemetry.trace import Span

from otel_serverless import attributes as attr
from otel_serverless.propagation import eventbridge, sns, sqs, xray
from otel_serverless.propagation._carrier import RESERVED_KEY, inject_fields
from tests.botocore.conftest import lambda_sqs_record, producer_spans, receive_all


def span_id(ctx: object) -> int:
    span_context = trace.get_current_span(ctx).get_span_context()  # type: ignore[arg-type]
    assert span_context.is_valid and span_context.is_remote
    return span_context.span_id


def targets() -> tuple[str, str, str, str, str]:
    sqs_client, sns_client, events = boto3.client("sqs"), boto3.client("sns"), boto3.client("events")
    direct_url = sqs_client.create_queue(QueueName="events-direct")["QueueUrl"]
    direct_arn = sqs_client.get_queue_attributes(QueueUrl=direct_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    via_url = sqs_client.create_queue(QueueName="events-via-sns")["QueueUrl"]
    via_arn = sqs_client.get_queue_attributes(QueueUrl=via_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = sns_client.create_topic(Name="events-topic")["TopicArn"]
    sns_client.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=via_arn)
    events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop.orders"]}))
    events.put_targets(Rule="orders", Targets=[{"Id": "q", "Arn": direct_arn}])
    return direct_url, direct_arn, via_url, via_arn, topic


def deliver_like_eventbridge_to_sns(topic: str, event_json: str) -> None:
    # moto has no SNS targets for EventBridge rules (PutEvents answers 500), so the
    # delivered event JSON is published the way EventBridge does: as the SNS message,
    # with no attributes (instrumentation suppressed so only the event's own context is there).
    from opentelemetry.instrumentation.utils import suppress_instrumentation

    with suppress_instrumentation():
        boto3.client("sns").publish(TopicArn=topic, Message=event_json)


def test_put_events_detail_reaches_sqs_and_sns_targets(instrumented: None, spans: object, parent: Span) -> None:
    direct_url, direct_arn, via_url, via_arn, topic = targets()
    detail = '{"order": 7,\n "items": ["a", "b"]}'
    entries = [{"Source": "shop.orders", "DetailType": "OrderPlaced", "Detail": detail}]
    before = copy.deepcopy(entries)
    response = boto3.client("events").put_events(Entries=entries)
    assert response["FailedEntryCount"] == 0
    assert entries == before
    (producer,) = producer_spans(spans, "send default")
    assert producer.attributes[attr.MESSAGING_MESSAGE_ID] == response["Entries"][0]["EventId"]
    assert producer.attributes[attr.PROPAGATION_CHANNELS] == ("payload",)

    (message,) = receive_all(boto3.client("sqs"), direct_url)
    event = json.loads(message["Body"])
    assert event["detail"]["order"] == 7 and event["detail"]["items"] == ["a", "b"]
    assert set(event["detail"]) == {"order", "items", RESERVED_KEY}
    assert span_id(eventbridge.extract_event(event)) == producer.context.span_id
    assert span_id(sqs.extract_lambda_record(lambda_sqs_record(message, direct_arn))) == producer.context.span_id

    deliver_like_eventbridge_to_sns(topic, message["Body"])
    (via,) = receive_all(boto3.client("sqs"), via_url)
    assert RESERVED_KEY not in json.loads(via["Body"]).get("MessageAttributes", {})
    envelope = json.loads(via["Body"])
    assert span_id(sns.extract_envelope(envelope)) == producer.context.span_id
    assert span_id(sqs.extract_lambda_record(lambda_sqs_record(via, via_arn))) == producer.context.span_id


def test_detail_bytes_are_kept_and_trace_header_is_set(parent: Span) -> None:
    detail = '{"a" : 1 ,  "b":{"c":[1,2]}  }'
    entry = {"Source": "s", "DetailType": "t", "Detail": detail}
    new, outcome = eventbridge.inject_entry(entry, inject_fields(), xray.lossless())
    assert outcome.channel == "payload"
    assert new["Detail"].startswith(detail[: detail.rindex("}")]), "the user's bytes come first, unchanged"
    assert json.loads(new["Detail"])["b"] == {"c": [1, 2]}
    assert new["TraceHeader"] == xray.header()
    # A TraceHeader the user set is theirs.
    mine = {**entry, "TraceHeader": "Root=1-00000000-000000000000000000000001"}
    assert eventbridge.inject_entry(mine, inject_fields(), xray.lossless())[0]["TraceHeader"] == mine["TraceHeader"]


def test_non_object_detail_and_size_limit_left_alone(instrumented: None, spans: object, parent: Span) -> None:
    events = boto3.client("events")
    big = json.dumps({"blob": "x" * (262_144 - 50)})
    entries = [
        {"Source": "s", "DetailType": "t", "Detail": "[1, 2]"},
        {"Source": "s", "DetailType": "t", "Detail": big},
    ]
    events.put_events(Entries=entries)
    (producer,) = producer_spans(spans)
    reasons = set(producer.attributes.get(attr.PROPAGATION_SKIP_REASONS, ()))
    assert "size_limit" in reasons
    fields = inject_fields()
    new, outcome = eventbridge.inject_entry(entries[0], fields, None)
    assert new is entries[0] and outcome.reason == "not_json_object"
    new, outcome = eventbridge.inject_entry(entries[1], fields, None)
    assert new is entries[1] and outcome.reason == "size_limit"
    assert eventbridge.entry_size(entries[1]) <= eventbridge.MAX_ENTRY_BYTES
