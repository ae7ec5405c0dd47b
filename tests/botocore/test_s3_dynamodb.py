"""S3 (object metadata + correlation id) and DynamoDB (correlation id; opt-in item context)."""

from __future__ import annotations

import copy
import json

import boto3
import pytest
from opentelemetry import trace
from opentelemetry.trace import Span

from otel_serverless import attributes as attr
from otel_serverless.propagation import dynamodb, s3
from otel_serverless.propagation._carrier import RESERVED_KEY
from tests.botocore.conftest import producer_spans, receive_all


def span_id(ctx: object) -> int:
    span_context = trace.get_current_span(ctx).get_span_context()  # type: ignore[arg-type]
    assert span_context.is_valid and span_context.is_remote
    return span_context.span_id


def notified_bucket(name: str = "uploads") -> str:
    sqs_client = boto3.client("sqs")
    url = sqs_client.create_queue(QueueName=f"{name}-events")["QueueUrl"]
    arn = sqs_client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client = boto3.client("s3")
    client.create_bucket(Bucket=name)
    client.put_bucket_notification_configuration(
        Bucket=name,
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    return url


def s3_records(url: str, expected: int) -> list[dict]:
    records = []
    for message in receive_all(boto3.client("sqs"), url, expected=expected + 1):
        records.extend(json.loads(message["Body"]).get("Records", []))  # the first is s3:TestEvent
    return records


def test_put_object_metadata_and_notification_link(instrumented: None, spans: object, parent: Span) -> None:
    url = notified_bucket()
    client = boto3.client("s3")
    metadata = {"owner": "team-a"}
    before = copy.deepcopy(metadata)
    client.put_object(Bucket="uploads", Key="reports/Q1 final.csv", Body=b"a,b\n1,2\n", Metadata=metadata)
    assert metadata == before
    (producer,) = producer_spans(spans, "PutObject uploads")
    assert producer.attributes[attr.AWS_S3_BUCKET] == "uploads"
    assert producer.attributes[attr.AWS_S3_KEY] == "reports/Q1 final.csv"
    assert producer.attributes[attr.S3_ETAG]
    head = client.head_object(Bucket="uploads", Key="reports/Q1 final.csv")
    assert head["Metadata"]["owner"] == "team-a"
    assert span_id(s3.extract_metadata(head["Metadata"])) == producer.context.span_id
    (record,) = s3_records(url, 1)
    # An S3-triggered consumer links without a HeadObject: same id from the notification alone.
    assert s3.correlation_key_for_record(record) == producer.attributes[attr.CORRELATION_ID]


def test_versioned_bucket_copy_and_multipart(instrumented: None, spans: object, parent: Span) -> None:
    url = notified_bucket("versioned")
    client = boto3.client("s3")
    client.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
    client.put_object(Bucket="versioned", Key="src", Body=b"x", Metadata={"a": "1"})
    client.copy_object(Bucket="versioned", Key="copy-default", CopySource={"Bucket": "versioned", "Key": "src"})
    client.copy_object(
        Bucket="versioned",
        Key="copy-replace",
        CopySource={"Bucket": "versioned", "Key": "src"},
        Metadata={"b": "2"},
        MetadataDirective="REPLACE",
    )
    upload = client.create_multipart_upload(Bucket="versioned", Key="big", Metadata={"c": "3"})
    part = client.upload_part(Bucket="versioned", Key="big", UploadId=upload["UploadId"], PartNumber=1, Body=b"p" * 10)
    client.complete_multipart_upload(
        Bucket="versioned",
        Key="big",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )
    by_key = {
        s.attributes[attr.AWS_S3_KEY]: s for s in producer_spans(spans) if s.name != "CreateMultipartUpload versioned"
    }
    # Default CopyObject copies the source's metadata: we leave it alone (the source's context stays).
    assert (
        client.head_object(Bucket="versioned", Key="copy-default")["Metadata"]
        == client.head_object(Bucket="versioned", Key="src")["Metadata"]
    )
    replaced = client.head_object(Bucket="versioned", Key="copy-replace")["Metadata"]
    assert replaced["b"] == "2"
    assert span_id(s3.extract_metadata(replaced)) == by_key["copy-replace"].context.span_id
    assert client.head_object(Bucket="versioned", Key="big")["Metadata"]["c"] == "3"
    assert s3.extract_metadata(client.head_object(Bucket="versioned", Key="big")["Metadata"]) is not None
    for record in s3_records(url, 4):
        key = record["s3"]["object"]["key"]
        assert s3.correlation_key_for_record(record) == by_key[key].attributes[attr.CORRELATION_ID], key
        assert by_key[key].attributes[attr.S3_VERSION_ID]


def test_metadata_limit(instrumented: None, spans: object, parent: Span) -> None:
    client = boto3.client("s3")
    client.create_bucket(Bucket="full")
    metadata = {"blob": "m" * (2048 - 4 - 20)}
    client.put_object(Bucket="full", Key="k", Body=b"x", Metadata=metadata)
    assert client.head_object(Bucket="full", Key="k")["Metadata"] == metadata
    (producer,) = producer_spans(spans)
    assert producer.attributes[attr.PROPAGATION_SKIP_REASONS] == ("size_limit",)


def table(name: str = "orders") -> str:
    client = boto3.client("dynamodb")
    description = client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    arn: str = description["LatestStreamArn"]
    return arn


def stream_records(stream_arn: str) -> list[dict]:
    """Stream records as Lambda delivers them (GetRecords records plus the eventSourceARN)."""
    streams = boto3.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    found = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    return [{**json.loads(json.dumps(r, default=str)), "eventSourceARN": stream_arn} for r in found]


def test_items_untouched_and_stream_records_link(
    instrumented: None, spans: object, parent: Span, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_DYNAMODB_KEYS", "orders=pk,sk")
    stream_arn = table()
    client = boto3.client("dynamodb")
    item = {"pk": {"S": "user#1"}, "sk": {"N": "1"}, "total": {"N": "9.5"}}
    before = copy.deepcopy(item)
    client.put_item(TableName="orders", Item=item)
    client.update_item(
        TableName="orders",
        Key={"pk": {"S": "user#1"}, "sk": {"N": "1"}},
        UpdateExpression="SET #t = :t",
        ExpressionAttributeNames={"#t": "total"},
        ExpressionAttributeValues={":t": {"N": "10"}},
    )
    client.delete_item(TableName="orders", Key={"pk": {"S": "user#1"}, "sk": {"N": "1.0"}})
    assert item == before
    put, update, delete = producer_spans(spans)
    assert put.attributes[attr.AWS_DYNAMODB_TABLE_NAMES] == ("orders",)
    records = stream_records(stream_arn)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    for record, span in zip(records, (put, update, delete), strict=True):
        assert dynamodb.correlation_key_for_record(record) == span.attributes[attr.CORRELATION_ID]
        assert RESERVED_KEY not in record["dynamodb"].get("NewImage", {}), "items are the user's data"
        assert dynamodb.extract_stream_record(record) is None


def test_opt_in_item_context_and_learnt_keys(
    instrumented: None, spans: object, parent: Span, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_DYNAMODB_ITEM_CONTEXT", "true")
    stream_arn = table()
    client = boto3.client("dynamodb")
    resource_table = boto3.resource("dynamodb").Table("orders")
    client.delete_item(TableName="orders", Key={"pk": {"S": "none"}, "sk": {"N": "0"}})  # learn the key schema
    resource_table.put_item(Item={"pk": "user#2", "sk": 2, "note": "via the resource API"})
    client.batch_write_item(RequestItems={"orders": [{"PutRequest": {"Item": {"pk": {"S": "b"}, "sk": {"N": "3"}}}}]})
    client.transact_write_items(
        TransactItems=[{"Put": {"TableName": "orders", "Item": {"pk": {"S": "t"}, "sk": {"N": "4"}}}}]
    )
    spans_by_op = {s.attributes["rpc.method"]: s for s in producer_spans(spans)}
    inserts = [r for r in stream_records(stream_arn) if r["eventName"] == "INSERT"]
    assert len(inserts) == 3
    for record, operation in zip(inserts, ("PutItem", "BatchWriteItem", "TransactWriteItems"), strict=True):
        span = spans_by_op[operation]
        assert span_id(dynamodb.extract_stream_record(record)) == span.context.span_id
        assert dynamodb.correlation_key_for_record(record) in span.attributes[attr.CORRELATION_IDS]
    stored = resource_table.get_item(Key={"pk": "user#2", "sk": 2})["Item"]
    assert stored["note"] == "via the resource API" and RESERVED_KEY in stored


def test_opt_in_item_context_on_updates_keeps_the_users_actions(
    instrumented: None, spans: object, parent: Span, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_DYNAMODB_ITEM_CONTEXT", "true")
    stream_arn = table()
    client = boto3.client("dynamodb")
    key = {"pk": {"S": "post#1"}, "sk": {"N": "1"}}
    request = {
        "TableName": "orders",
        "Key": key,
        "UpdateExpression": "SET #w = :w REMOVE draft",
        "ExpressionAttributeNames": {"#w": "words"},
        "ExpressionAttributeValues": {":w": {"N": "42"}},
    }
    original = copy.deepcopy(request)
    client.update_item(**request)
    assert request == original  # the caller's request is not touched
    client.update_item(
        TableName="orders", Key=key, UpdateExpression="ADD visits :one", ExpressionAttributeValues={":one": {"N": "1"}}
    )
    client.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": "orders",
                    "Key": key,
                    "UpdateExpression": "SET likes = :l",
                    "ExpressionAttributeValues": {":l": {"N": "7"}},
                }
            }
        ]
    )
    updates = [s for s in producer_spans(spans) if s.attributes["rpc.method"] in ("UpdateItem", "TransactWriteItems")]
    records = [r for r in stream_records(stream_arn) if r["dynamodb"]["Keys"]["pk"] == {"S": "post#1"}]
    # moto streams an extra key-only INSERT when an UpdateItem creates the item; AWS streams one.
    records = [r for r in records if set(r["dynamodb"].get("NewImage", {})) != {"pk", "sk"}]
    assert len(records) == 3, [(r["eventName"], sorted(r["dynamodb"].get("NewImage", {}))) for r in records]
    for record, span in zip(records, updates, strict=True):
        assert span_id(dynamodb.extract_stream_record(record)) == span.context.span_id
    stored = client.get_item(TableName="orders", Key=key)["Item"]
    assert stored["words"] == {"N": "42"} and stored["visits"] == {"N": "1"} and stored["likes"] == {"N": "7"}
    assert RESERVED_KEY in stored


def test_an_update_already_using_our_placeholder_is_left_alone() -> None:
    update = {
        "UpdateExpression": "SET #otel_serverless_ctx = :v",
        "ExpressionAttributeNames": {"#otel_serverless_ctx": "mine"},
        "ExpressionAttributeValues": {":v": {"S": "x"}},
    }
    new, outcome = dynamodb.inject_update(update, {"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"})
    assert new is None and outcome.reason
