"""Kinesis (record data) and Step Functions (execution input): the payload-only carriers."""

from __future__ import annotations

import base64
import json

import boto3
from opentelemetry import trace
from opentelemetry.trace import Span

from otel_serverless import attributes as attr
from otel_serverless.propagation import kinesis, stepfunctions
from otel_serverless.propagation._carrier import RESERVED_KEY, inject_fields
from tests.botocore.conftest import producer_spans


def span_id(ctx: object) -> int:
    span_context = trace.get_current_span(ctx).get_span_context()  # type: ignore[arg-type]
    assert span_context.is_valid and span_context.is_remote
    return span_context.span_id


def stream(name: str = "clicks") -> str:
    client = boto3.client("kinesis")
    client.create_stream(StreamName=name, ShardCount=1)
    return client.describe_stream(StreamName=name)["StreamDescription"]["StreamARN"]


def records(name: str) -> list[dict]:
    client = boto3.client("kinesis")
    shard = client.describe_stream(StreamName=name)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = client.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    found: list[dict] = client.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    return [{**record, "ShardId": shard} for record in found]


def lambda_kinesis_record(record: dict, stream_arn: str) -> dict:
    """The Lambda Kinesis event record for a GetRecords record."""
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": record["SequenceNumber"],
            "data": base64.b64encode(record["Data"]).decode(),
            "approximateArrivalTimestamp": record["ApproximateArrivalTimestamp"].timestamp(),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{record['ShardId']}:{record['SequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "awsRegion": "us-east-1",
        "eventSourceARN": stream_arn,
    }


def test_put_record_json_object(instrumented: None, spans: object, parent: Span) -> None:
    arn = stream()
    data = b'{"user": "u1",  "clicks": 3}'
    response = boto3.client("kinesis").put_record(StreamName="clicks", Data=data, PartitionKey="u1")
    (producer,) = producer_spans(spans, "send clicks")
    assert producer.attributes[attr.AWS_KINESIS_STREAM_NAME] == "clicks"
    assert producer.attributes[attr.KINESIS_PARTITION_KEY] == "u1"
    assert producer.attributes[attr.KINESIS_SEQUENCE_NUMBER] == response["SequenceNumber"]
    assert producer.attributes[attr.KINESIS_SHARD_ID] == response["ShardId"]
    (record,) = records("clicks")
    assert record["Data"].startswith(data[:-1]), "the user's bytes are kept as they were"
    assert json.loads(record["Data"])["clicks"] == 3
    event_record = lambda_kinesis_record(record, arn)
    assert span_id(kinesis.extract_record(event_record)) == producer.context.span_id
    # Deterministic link: the consumer recomputes the id the producer span recorded.
    assert kinesis.correlation_key_for_record(event_record) == producer.attributes[attr.CORRELATION_ID]


def test_put_records_mixed_data(instrumented: None, spans: object, parent: Span) -> None:
    arn = stream()
    payloads = [b'{"n": 1}', b"plain text", b"\x00\x01binary", b"[1, 2]", "{}"]
    entries = [{"Data": data, "PartitionKey": str(i)} for i, data in enumerate(payloads)]
    boto3.client("kinesis").put_records(StreamName="clicks", Records=entries)
    (producer,) = producer_spans(spans)
    assert producer.attributes[attr.MESSAGING_BATCH_MESSAGE_COUNT] == 5
    assert producer.attributes[attr.PROPAGATION_INJECTED] == 2
    assert producer.attributes[attr.PROPAGATION_SKIP_REASONS] == ("not_json_object",)
    got = records("clicks")
    assert [r["Data"] for r in got[1:4]] == payloads[1:4], "non-JSON-object data is never touched"
    for record in (got[0], got[4]):
        assert span_id(kinesis.extract_record(lambda_kinesis_record(record, arn))) == producer.context.span_id
    assert json.loads(got[4]["Data"]) == {RESERVED_KEY: json.loads(got[0]["Data"])[RESERVED_KEY]}
    ids = producer.attributes[attr.CORRELATION_IDS]
    assert [kinesis.correlation_key_for_record(lambda_kinesis_record(r, arn)) for r in got] == list(ids)


def test_kinesis_record_limit(parent: Span) -> None:
    fields = inject_fields()
    data = json.dumps({"x": "y" * (1_048_576 - 40)}).encode()
    entry = {"Data": data, "PartitionKey": "k"}
    new, outcome = kinesis.inject_record(entry, fields)
    assert new is entry and outcome.reason == "size_limit"
    small = {"Data": b'{"a":1}', "PartitionKey": "k"}
    new, outcome = kinesis.inject_record(small, fields, max_bytes=1024)
    assert outcome.injected and kinesis.record_size(new) <= 1024


def test_kinesis_config_cap(instrumented: None, spans: object, parent: Span, monkeypatch: object) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_KINESIS_MAX_RECORD_BYTES", "1024")  # type: ignore[attr-defined]
    stream()
    data = json.dumps({"pad": "p" * 980}).encode()
    boto3.client("kinesis").put_record(StreamName="clicks", Data=data, PartitionKey="k")
    (record,) = records("clicks")
    assert record["Data"] == data
    (producer,) = producer_spans(spans)
    assert producer.attributes[attr.PROPAGATION_SKIP_REASONS] == ("size_limit",)


DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})


def machine() -> str:
    client = boto3.client("stepfunctions")
    role = "arn:aws:iam::123456789012:role/sfn"
    arn: str = client.create_state_machine(name="checkout", definition=DEFINITION, roleArn=role)["stateMachineArn"]
    return arn


def test_start_execution_input(instrumented: None, spans: object, parent: Span) -> None:
    arn = machine()
    client = boto3.client("stepfunctions")
    user_input = '{"cart": [1, 2],\n "total": 9.5}'
    execution = client.start_execution(stateMachineArn=arn, input=user_input)
    (producer,) = producer_spans(spans, "StartExecution checkout")
    assert producer.attributes[attr.AWS_STEP_FUNCTIONS_STATE_MACHINE_ARN] == arn
    delivered = client.describe_execution(executionArn=execution["executionArn"])["input"]
    assert delivered.startswith(user_input[:-1])
    task_input = json.loads(delivered)  # what a Lambda task receives with the default "$" path
    assert task_input["cart"] == [1, 2]
    assert span_id(stepfunctions.extract_input(task_input)) == producer.context.span_id
    assert span_id(stepfunctions.extract_input(delivered)) == producer.context.span_id


def test_start_execution_without_input_and_with_non_object(instrumented: None, spans: object, parent: Span) -> None:
    arn = machine()
    client = boto3.client("stepfunctions")
    first = client.start_execution(stateMachineArn=arn)
    second = client.start_execution(stateMachineArn=arn, input='"just a string"')
    assert set(json.loads(client.describe_execution(executionArn=first["executionArn"])["input"])) == {RESERVED_KEY}
    assert client.describe_execution(executionArn=second["executionArn"])["input"] == '"just a string"'
    big = json.dumps({"x": "y" * (262_144 - 30)})
    new, outcome = stepfunctions.inject_input({"input": big}, inject_fields())
    assert outcome.reason == "size_limit" and new["input"] is big
