"""SQS event source mapping: shapes, batching, redelivery, DLQ, partial batch failures."""

from __future__ import annotations

import json
from typing import Any

import pytest

from otel_serverless.local import LocalRuntime
from tests.local.conftest import sample

TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def _queue(runtime: LocalRuntime, name: str, visibility: int = 1, dlq: str | None = None, max_receives: int = 2) -> str:
    sqs = runtime.client("sqs")
    attributes = {"VisibilityTimeout": str(visibility)}
    if dlq is not None:
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives})
    url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url


def test_records_have_lambdas_sqs_shape_with_attributes_and_trace_header(runtime: LocalRuntime) -> None:
    events: list[Any] = []
    runtime.add_function("consumer", lambda event, context: events.append(event), timeout=1)
    url = _queue(runtime, "posts")
    runtime.sqs_trigger("posts", "consumer")
    runtime.client("sqs").send_message(
        QueueUrl=url,
        MessageBody="hello",
        MessageAttributes={
            "traceparent": {"DataType": "String", "StringValue": "00-abc-def-01"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
        MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": TRACE_HEADER}},
    )
    assert runtime.run_until_idle(timeout=20)
    [event] = events
    [record] = event["Records"]
    real = sample("sqsEvent.json")["Records"][0]
    assert set(record) - {"md5OfMessageAttributes"} == set(real)
    assert set(real["attributes"]) <= set(record["attributes"])
    assert record["attributes"]["AWSTraceHeader"] == TRACE_HEADER
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["body"] == "hello"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:posts"
    assert record["awsRegion"] == "us-east-1"
    assert record["messageAttributes"]["traceparent"] == {
        "stringValue": "00-abc-def-01",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["messageAttributes"]["blob"]["binaryValue"] == "AAE="
    # Success deleted the message.
    assert runtime.client("sqs").receive_message(QueueUrl=url).get("Messages") is None


def test_batches_respect_the_batch_size(runtime: LocalRuntime) -> None:
    sizes: list[int] = []
    runtime.add_function("consumer", lambda event, context: sizes.append(len(event["Records"])), timeout=1)
    url = _queue(runtime, "posts")
    sqs = runtime.client("sqs")
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(7)])
    runtime.sqs_trigger(url, "consumer", batch_size=3, maximum_concurrency=1)
    assert runtime.run_until_idle(timeout=20)
    assert sum(sizes) == 7
    assert max(sizes) == 3


def test_a_batch_window_collects_messages_sent_over_time(runtime: LocalRuntime) -> None:
    sizes: list[int] = []
    runtime.add_function("consumer", lambda event, context: sizes.append(len(event["Records"])), timeout=1)
    url = _queue(runtime, "posts", visibility=5)
    sqs = runtime.client("sqs")
    source = runtime.sqs_trigger(url, "consumer", batch_size=20, batch_window=60)
    sqs.send_message(QueueUrl=url, MessageBody="1")
    assert runtime.pump() == 0  # the window is open: the first message waits
    assert source.pending()
    for start in (0, 10):
        entries = [{"Id": str(i), "MessageBody": str(i)} for i in range(start, min(start + 10, 19))]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert runtime.run_until_idle(timeout=20)  # the batch is full before the window closes
    assert sizes == [20]


def test_failures_are_redelivered_with_a_growing_receive_count_then_dead_lettered(runtime: LocalRuntime) -> None:
    counts: list[str] = []

    def handler(event: Any, context: Any) -> None:
        counts.extend(record["attributes"]["ApproximateReceiveCount"] for record in event["Records"])
        raise RuntimeError("cannot process")

    runtime.add_function("consumer", handler, timeout=1)
    sqs = runtime.client("sqs")
    dlq = sqs.create_queue(QueueName="posts-dlq")["QueueUrl"]
    url = _queue(runtime, "posts", dlq=dlq, max_receives=3)
    runtime.sqs_trigger(url, "consumer")
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    assert runtime.run_until_idle(timeout=30)
    assert counts == ["1", "2", "3"]
    assert [r.attempt for r in runtime.invocations] == [1, 2, 3]
    assert all(r.source == "sqs" and not r.ok for r in runtime.invocations)
    [dead] = sqs.receive_message(QueueUrl=dlq)["Messages"]
    assert dead["Body"] == "poison"


def test_a_timeout_is_redelivered_like_an_error(runtime: LocalRuntime) -> None:
    import threading

    never = threading.Event()
    attempts: list[str] = []

    def handler(event: Any, context: Any) -> None:
        attempts.append(event["Records"][0]["attributes"]["ApproximateReceiveCount"])
        if len(attempts) == 1:
            never.wait(30)

    runtime.add_function("consumer", handler, timeout=0.3)
    url = _queue(runtime, "posts")
    runtime.sqs_trigger(url, "consumer")
    runtime.client("sqs").send_message(QueueUrl=url, MessageBody="x")
    assert runtime.run_until_idle(timeout=30)
    assert attempts == ["1", "2"]
    assert [r.timed_out for r in runtime.invocations] == [True, False]


def test_partial_batch_failures_redeliver_only_the_failed_messages(runtime: LocalRuntime) -> None:
    deliveries: list[tuple[str, str]] = []

    def handler(event: Any, context: Any) -> dict[str, Any]:
        failures = []
        for record in event["Records"]:
            deliveries.append((record["body"], record["attributes"]["ApproximateReceiveCount"]))
            if record["body"] == "bad" and record["attributes"]["ApproximateReceiveCount"] == "1":
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    runtime.add_function("consumer", handler, timeout=1)
    url = _queue(runtime, "posts")
    sqs = runtime.client("sqs")
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(["a", "bad", "c"])]
    )
    runtime.sqs_trigger(url, "consumer", report_batch_item_failures=True)
    assert runtime.run_until_idle(timeout=30)
    assert sorted(deliveries) == [("a", "1"), ("bad", "1"), ("bad", "2"), ("c", "1")]


@pytest.mark.parametrize(
    "response",
    [{"batchItemFailures": [{"itemIdentifier": ""}]}, {"batchItemFailures": [{"id": "x"}]}, {"batchItemFailures": "x"}],
    ids=["empty-identifier", "wrong-key", "not-a-list"],
)
def test_a_malformed_partial_batch_response_fails_the_whole_batch(runtime: LocalRuntime, response: Any) -> None:
    deliveries: list[str] = []

    def handler(event: Any, context: Any) -> Any:
        deliveries.extend(record["attributes"]["ApproximateReceiveCount"] for record in event["Records"])
        return response if len(deliveries) <= 2 else None

    runtime.add_function("consumer", handler, timeout=1)
    url = _queue(runtime, "posts")
    runtime.client("sqs").send_message_batch(
        QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "a"}, {"Id": "2", "MessageBody": "b"}]
    )
    runtime.sqs_trigger(url, "consumer", report_batch_item_failures=True)
    assert runtime.run_until_idle(timeout=30)
    assert deliveries == ["1", "1", "2", "2"]


def test_the_mapping_is_refused_when_the_visibility_timeout_is_below_the_function_timeout(
    runtime: LocalRuntime,
) -> None:
    runtime.add_function("consumer", lambda event, context: None, timeout=5)
    _queue(runtime, "posts", visibility=2)
    with pytest.raises(ValueError, match="visibility timeout: 2 seconds is less than Function timeout: 5"):
        runtime.sqs_trigger("posts", "consumer")


def test_run_until_idle_gives_up_at_its_timeout_on_a_message_that_never_succeeds(runtime: LocalRuntime) -> None:
    def handler(event: Any, context: Any) -> None:
        raise RuntimeError("forever")

    runtime.add_function("consumer", handler, timeout=1)
    url = _queue(runtime, "posts")
    runtime.sqs_trigger(url, "consumer")
    runtime.client("sqs").send_message(QueueUrl=url, MessageBody="x")
    assert runtime.run_until_idle(timeout=0.5) is False
