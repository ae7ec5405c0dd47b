"""Kinesis and DynamoDB stream pollers: shapes, order, retry of a failed batch."""

from __future__ import annotations

import base64
from typing import Any

from otel_serverless.local import LocalRuntime
from tests.local.conftest import sample


def _stream(runtime: LocalRuntime, name: str = "posts") -> Any:
    kinesis = runtime.client("kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    return kinesis


def test_kinesis_records_have_lambdas_shape_and_arrive_in_order(runtime: LocalRuntime) -> None:
    events: list[Any] = []
    runtime.add_function("aggregator", lambda event, context: events.append(event), timeout=1)
    kinesis = _stream(runtime)
    runtime.kinesis_trigger("posts", "aggregator", batch_size=2)
    for n in range(3):
        kinesis.put_record(StreamName="posts", Data=f'{{"n": {n}}}'.encode(), PartitionKey="p")
    assert runtime.run_until_idle(timeout=20)
    assert [len(event["Records"]) for event in events] == [2, 1]
    records = [record for event in events for record in event["Records"]]
    real = sample("kinesisStreamEventOneRecord.json")["Records"][0]
    assert set(records[0]) == set(real)
    assert set(records[0]["kinesis"]) == set(real["kinesis"])
    assert [base64.b64decode(r["kinesis"]["data"]) for r in records] == [b'{"n": 0}', b'{"n": 1}', b'{"n": 2}']
    first = records[0]
    assert first["eventSource"] == "aws:kinesis"
    assert first["eventName"] == "aws:kinesis:record"
    assert first["eventSourceARN"] == "arn:aws:kinesis:us-east-1:123456789012:stream/posts"
    assert first["eventID"].endswith(":" + first["kinesis"]["sequenceNumber"])
    assert isinstance(first["kinesis"]["approximateArrivalTimestamp"], float)


def test_a_failed_stream_batch_is_retried_before_the_shard_moves_on(runtime: LocalRuntime) -> None:
    seen: list[list[str]] = []

    def handler(event: Any, context: Any) -> None:
        seen.append([base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]])
        if len(seen) < 3:
            raise RuntimeError("downstream unavailable")

    runtime.add_function("aggregator", handler, timeout=1)
    kinesis = _stream(runtime)
    runtime.kinesis_trigger("posts", "aggregator", batch_size=2)
    for n in "abc":
        kinesis.put_record(StreamName="posts", Data=n.encode(), PartitionKey="p")
    assert runtime.run_until_idle(timeout=20)
    assert seen == [["a", "b"], ["a", "b"], ["a", "b"], ["c"]]
    assert [(r.attempt, r.ok) for r in runtime.invocations] == [(1, False), (2, False), (3, True), (1, True)]
    assert all(r.source == "kinesis" for r in runtime.invocations)


def test_partial_failures_retry_from_the_lowest_failed_sequence_number(runtime: LocalRuntime) -> None:
    seen: list[list[str]] = []

    def handler(event: Any, context: Any) -> dict[str, Any]:
        data = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
        seen.append(data)
        if len(seen) == 1:
            return {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["kinesis"]["sequenceNumber"]}]}
        return {"batchItemFailures": []}

    runtime.add_function("aggregator", handler, timeout=1)
    kinesis = _stream(runtime)
    runtime.kinesis_trigger("posts", "aggregator", batch_size=3, report_batch_item_failures=True)
    for n in "abc":
        kinesis.put_record(StreamName="posts", Data=n.encode(), PartitionKey="p")
    assert runtime.run_until_idle(timeout=20)
    assert seen == [["a", "b", "c"], ["b", "c"]]


def test_a_batch_is_discarded_after_max_retry_attempts(runtime: LocalRuntime) -> None:
    def handler(event: Any, context: Any) -> None:
        raise RuntimeError("poison")

    runtime.add_function("aggregator", handler, timeout=1)
    kinesis = _stream(runtime)
    source = runtime.kinesis_trigger("posts", "aggregator", max_retry_attempts=1)
    kinesis.put_record(StreamName="posts", Data=b"x", PartitionKey="p")
    assert runtime.run_until_idle(timeout=20)
    assert [r.attempt for r in runtime.invocations] == [1, 2]
    assert source.discarded_batches == 1  # type: ignore[attr-defined]


def test_latest_starting_position_skips_records_written_before_the_mapping(runtime: LocalRuntime) -> None:
    events: list[Any] = []
    runtime.add_function("aggregator", lambda event, context: events.append(event), timeout=1)
    kinesis = _stream(runtime)
    kinesis.put_record(StreamName="posts", Data=b"old", PartitionKey="p")
    runtime.kinesis_trigger("posts", "aggregator", starting_position="LATEST")
    kinesis.put_record(StreamName="posts", Data=b"new", PartitionKey="p")
    assert runtime.run_until_idle(timeout=20)
    assert [base64.b64decode(r["kinesis"]["data"]) for e in events for r in e["Records"]] == [b"new"]


def test_dynamodb_stream_records_have_lambdas_shape(runtime: LocalRuntime) -> None:
    events: list[Any] = []
    runtime.add_function("notifier", lambda event, context: events.append(event), timeout=1)
    dynamodb = runtime.client("dynamodb")
    dynamodb.create_table(
        TableName="posts",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    runtime.dynamodb_trigger("posts", "notifier")
    dynamodb.put_item(TableName="posts", Item={"id": {"S": "1"}, "title": {"S": "first"}})
    dynamodb.put_item(TableName="posts", Item={"id": {"S": "1"}, "title": {"S": "edited"}})
    assert runtime.run_until_idle(timeout=20)
    records = [record for event in events for record in event["Records"]]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
    real = sample("dynamoStreamEvent.json")["Records"]
    assert set(records[0]) == set(real[0])
    assert set(records[0]["dynamodb"]) == set(real[0]["dynamodb"])
    assert set(records[1]["dynamodb"]) == set(real[1]["dynamodb"]) | {"ApproximateCreationDateTime"}
    assert records[1]["dynamodb"]["OldImage"]["title"] == {"S": "first"}
    assert records[0]["eventSourceARN"].startswith("arn:aws:dynamodb:us-east-1:123456789012:table/posts/stream/")
    assert isinstance(records[0]["dynamodb"]["ApproximateCreationDateTime"], float)
    assert all(r.source == "dynamodb" for r in runtime.invocations)
