"""Services that push to functions and queues: SNS, EventBridge, S3."""

from __future__ import annotations

import json
from typing import Any

from otel_serverless.local import LocalRuntime
from tests.local.conftest import sample


def _collector(runtime: LocalRuntime, name: str) -> list[Any]:
    events: list[Any] = []
    runtime.add_function(name, lambda event, context: events.append(event), timeout=1)
    return events


def _receive_all(runtime: LocalRuntime, url: str) -> list[dict[str, Any]]:
    response = runtime.client("sqs").receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )
    messages: list[dict[str, Any]] = response.get("Messages", [])
    return messages


def test_sns_to_lambda_delivers_sns_records_with_message_attributes(runtime: LocalRuntime) -> None:
    events = _collector(runtime, "notified")
    topic = runtime.client("sns").create_topic(Name="posts")["TopicArn"]
    runtime.sns_subscribe_function(topic, "notified")
    runtime.client("sns").publish(
        TopicArn=topic,
        Message="new post",
        Subject="Post",
        MessageAttributes={"traceparent": {"DataType": "String", "StringValue": "00-abc-def-01"}},
    )
    assert runtime.run_until_idle(timeout=20)
    [event] = events
    [record] = event["Records"]
    real = sample("snsEvent.json")["Records"][0]
    assert set(record) == set(real)
    assert set(record["Sns"]) == set(real["Sns"])
    assert record["EventSource"] == "aws:sns"
    assert record["EventSubscriptionArn"].startswith(topic + ":")
    assert record["Sns"]["Message"] == "new post"
    assert record["Sns"]["Subject"] == "Post"
    assert record["Sns"]["TopicArn"] == topic
    assert record["Sns"]["MessageAttributes"] == {"traceparent": {"Type": "String", "Value": "00-abc-def-01"}}
    assert [r.source for r in runtime.invocations] == ["sns"]


def test_sns_filter_policies_apply_to_function_subscriptions(runtime: LocalRuntime) -> None:
    events = _collector(runtime, "notified")
    sns = runtime.client("sns")
    topic = sns.create_topic(Name="posts")["TopicArn"]
    runtime.sns_subscribe_function(topic, "notified", filter_policy={"kind": ["article"]})
    for kind in ("article", "comment"):
        attributes = {"kind": {"DataType": "String", "StringValue": kind}}
        sns.publish(TopicArn=topic, Message=kind, MessageAttributes=attributes)
    assert runtime.run_until_idle(timeout=20)
    assert [event["Records"][0]["Sns"]["Message"] for event in events] == ["article"]


def test_sns_to_sqs_raw_and_enveloped_reach_an_sqs_mapping(runtime: LocalRuntime) -> None:
    sqs, sns = runtime.client("sqs"), runtime.client("sns")
    topic = sns.create_topic(Name="posts")["TopicArn"]
    raw = sqs.create_queue(QueueName="raw", Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    wrapped = sqs.create_queue(QueueName="wrapped", Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    runtime.sns_subscribe_queue(topic, raw, raw=True)
    runtime.sns_subscribe_queue(topic, "wrapped")
    raw_events, wrapped_events = _collector(runtime, "raw-consumer"), _collector(runtime, "wrapped-consumer")
    runtime.sqs_trigger(raw, "raw-consumer")
    runtime.sqs_trigger(wrapped, "wrapped-consumer")
    attributes = {"traceparent": {"DataType": "String", "StringValue": "00-abc-def-01"}}
    sns.publish(TopicArn=topic, Message="hello", MessageAttributes=attributes)
    assert runtime.run_until_idle(timeout=20)
    [raw_record] = raw_events[0]["Records"]
    assert raw_record["body"] == "hello"
    assert raw_record["messageAttributes"]["traceparent"]["stringValue"] == "00-abc-def-01"
    [wrapped_record] = wrapped_events[0]["Records"]
    envelope = json.loads(wrapped_record["body"])
    real_envelope = json.loads(sample("snsSqsEvent.json")["Records"][0]["body"])
    assert set(real_envelope) <= set(envelope) | {"Subject"}
    assert envelope["Message"] == "hello"
    assert envelope["MessageAttributes"]["traceparent"] == {"Type": "String", "Value": "00-abc-def-01"}


def test_eventbridge_rule_to_lambda_delivers_the_full_event(runtime: LocalRuntime) -> None:
    events = _collector(runtime, "consumer")
    runtime.eventbridge_rule("posts", event_pattern={"source": ["blog.posts"]}, function="consumer")
    runtime.client("events").put_events(
        Entries=[
            {"Source": "blog.posts", "DetailType": "PostPublished", "Detail": json.dumps({"id": 1})},
            {"Source": "other", "DetailType": "Ignored", "Detail": "{}"},
        ]
    )
    assert runtime.run_until_idle(timeout=20)
    [event] = events
    real = sample("eventBridgeEvent.json")
    assert list(event) == [key for key in real if key != "replay-name"]
    assert event["detail"] == {"id": 1}
    assert event["detail-type"] == "PostPublished"
    assert event["account"] == "123456789012"
    assert event["region"] == "us-east-1"
    assert [r.source for r in runtime.invocations] == ["eventbridge"]


def test_eventbridge_rule_to_a_queue_sends_the_full_event(runtime: LocalRuntime) -> None:
    url = runtime.client("sqs").create_queue(QueueName="events")["QueueUrl"]
    runtime.eventbridge_rule("posts", event_pattern={"source": ["blog.posts"]}, queue="events")
    runtime.client("events").put_events(Entries=[{"Source": "blog.posts", "DetailType": "X", "Detail": "{}"}])
    assert runtime.run_until_idle(timeout=20)
    [message] = _receive_all(runtime, url)
    assert set(json.loads(message["Body"])) == set(sample("eventBridgeEvent.json")) - {"replay-name"}


def test_a_scheduled_rule_fires_a_scheduled_event(runtime: LocalRuntime) -> None:
    events = _collector(runtime, "nightly")
    runtime.schedule("nightly-analysis", "nightly", "rate(1 day)")
    runtime.fire_schedule("nightly-analysis")
    assert runtime.run_until_idle(timeout=20)
    [event] = events
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/nightly-analysis"]
    assert runtime.invocations[0].source == "schedule"


def test_s3_notifications_reach_functions_and_queues_in_s3s_shape(runtime: LocalRuntime) -> None:
    events = _collector(runtime, "on-upload")
    s3, sqs = runtime.client("s3"), runtime.client("sqs")
    s3.create_bucket(Bucket="uploads")
    url = sqs.create_queue(QueueName="uploads-queue")["QueueUrl"]
    config_id = runtime.s3_notification("uploads", function="on-upload", prefix="posts/", suffix=".json")
    runtime.s3_notification("uploads", queue="uploads-queue", events=("s3:ObjectCreated:Put",))
    s3.put_object(Bucket="uploads", Key="posts/my post.json", Body=b"{}")
    s3.put_object(Bucket="uploads", Key="images/1.png", Body=b"x")
    assert runtime.run_until_idle(timeout=20)
    [event] = events
    [record] = event["Records"]
    real = sample("s3Event.json")["Records"][0]
    assert set(record) == set(real)
    assert set(record["s3"]) == set(real["s3"])
    assert set(record["s3"]["bucket"]) == set(real["s3"]["bucket"])
    assert set(real["s3"]["object"]) <= set(record["s3"]["object"])
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["object"]["key"] == "posts/my+post.json"  # form-encoded, "/" kept, as S3 does
    assert record["s3"]["configurationId"] == config_id
    assert [r.source for r in runtime.invocations] == ["s3"]
    bodies = [json.loads(m["Body"]) for m in _receive_all(runtime, url)]
    keys = sorted(body["Records"][0]["s3"]["object"]["key"] for body in bodies if "Records" in body)
    assert keys == ["images/1.png", "posts/my+post.json"]
    assert any(body.get("Event") == "s3:TestEvent" for body in bodies)  # S3 tests a new queue target
