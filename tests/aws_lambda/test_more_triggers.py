"""Every other trigger Lambda delivers: the producer's context where the source carries one,
the right attributes, and a safe answer for hostile shapes (replayed from real samples)."""

from __future__ import annotations

import base64
import copy
import gzip
import json
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from otel_serverless.aws_lambda.triggers import detect
from tests.aws_lambda.conftest import LambdaContext, Pipeline, event, producer, traceparent
from tests.aws_lambda.test_parent_and_links import run

PRODUCER = producer()
OTHER = producer(0x11111111111111111111111111111111, 0x2222222222222222)


def parent_of(found: Any) -> Any:
    assert found is not None
    return trace.get_current_span(found).get_span_context()


def as_bytes(text: str) -> list[int]:
    return list(text.encode())


# -- messaging sources with headers --------------------------------------------------


def kafka_with(context: Any = PRODUCER) -> dict[str, Any]:
    sample = event("kafkaEventMsk")
    (record,) = sample["records"]["mytopic-0"]
    record["headers"] = [{"traceparent": as_bytes(traceparent(context))}, *record["headers"]]
    return sample


def test_kafka_records_carry_their_producer_in_the_headers(pipeline: Pipeline) -> None:
    trigger = detect(kafka_with())
    assert trigger.name == "kafka" and trigger.batch and trigger.kind is SpanKind.CONSUMER
    (record,) = trigger.records
    assert parent_of(record.parent) == PRODUCER
    assert record.attributes["messaging.destination.name"] == "mytopic"
    assert record.attributes["messaging.destination.partition.id"] == "0"
    assert record.attributes["messaging.kafka.offset"] == 15
    assert trigger.attributes["serverless.kafka.cluster"] == "msk"
    assert detect(event("kafkaEventSelfManaged")).attributes["serverless.kafka.cluster"] == "self_managed_kafka"

    span = run(pipeline, kafka_with(), records=True)
    assert [link.context for link in span.links] == [PRODUCER]
    (per_record,) = [s for s in pipeline.spans() if s.name == "process mytopic"]
    assert per_record.parent == PRODUCER and per_record.kind is SpanKind.CONSUMER


def test_a_redelivered_kafka_batch_is_a_retry(pipeline: Pipeline) -> None:
    run(pipeline, kafka_with())
    pipeline.exporter.clear()
    again = run(pipeline, kafka_with())
    assert again.attributes["serverless.retry"] is True


@pytest.mark.parametrize(
    "headers",
    [
        [{"traceparent": [300, 1, 2]}],  # not bytes
        [{"traceparent": ["0", "0"]}],
        [{"traceparent": as_bytes("00-zz-yy-01")}],
        [{"traceparent": list(b"\xff\xfe")}],  # not UTF-8
        [{"traceparent": [48] * 100_000}],  # oversize
        "not a list",
        [["a", "b"], None, 7],
        [{"k": as_bytes("v")}] * 10_000,
    ],
)
def test_hostile_kafka_headers_give_no_parent_and_no_error(headers: Any) -> None:
    sample = event("kafkaEventMsk")
    sample["records"]["mytopic-0"][0]["headers"] = headers
    (record,) = detect(sample).records
    assert record.parent is None


def test_activemq_properties_and_rabbitmq_headers_carry_the_producer() -> None:
    active = event("activeMQEvent")
    active["messages"][1]["properties"]["traceparent"] = traceparent(PRODUCER)
    active["messages"][2]["redelivered"] = True
    trigger = detect(active)
    assert trigger.name == "activemq" and trigger.attributes["messaging.system"] == "activemq"
    assert [record.parent is not None for record in trigger.records] == [False, True, False]
    assert parent_of(trigger.records[1].parent) == PRODUCER
    assert trigger.records[2].attempt == 2 and trigger.attempt == 2
    assert trigger.records[0].attributes["messaging.destination.name"] == "testQueue"

    rabbit = event("rabbitMQEvent")
    (message,) = rabbit["rmqMessagesByQueue"]["pizzaQueue::/"]
    message["basicProperties"]["headers"]["traceparent"] = {"bytes": as_bytes(traceparent(OTHER))}
    trigger = detect(rabbit)
    assert trigger.name == "rabbitmq" and trigger.destination == "pizzaQueue"
    assert parent_of(trigger.records[0].parent) == OTHER


# -- HTTP-like sources -----------------------------------------------------------------


def test_cloudfront_request_headers_give_the_parent() -> None:
    sample = event("cloudFrontViewerRequestEvent")
    request = sample["Records"][0]["cf"]["request"]
    request["headers"]["traceparent"] = [{"key": "traceparent", "value": traceparent(PRODUCER)}]
    trigger = detect(sample)
    assert trigger.name == "cloudfront" and trigger.http and trigger.faas_trigger == "http"
    assert parent_of(trigger.parent) == PRODUCER
    assert trigger.attributes["serverless.cloudfront.event_type"] == "viewer-request"
    assert trigger.attributes["url.path"] == "/images/cat.jpg"
    # Two different values: the request cannot choose its parent by repetition.
    request["headers"]["traceparent"].append({"key": "traceparent", "value": traceparent(OTHER)})
    assert detect(sample).parent is None


def test_websocket_connect_message_and_disconnect_are_alike() -> None:
    names = ("apiGatewayWebSocketConnectEvent", "apiGatewayWebSocketMessageEvent", "apiGatewayWebSocketDisconnectEvent")
    triggers = [detect(event(name)) for name in names]
    assert {trigger.name for trigger in triggers} == {"api_gateway_websocket"}
    assert {trigger.faas_trigger for trigger in triggers} == {"http"}
    assert {trigger.kind for trigger in triggers} == {SpanKind.SERVER}
    assert [trigger.attributes["serverless.websocket.event_type"] for trigger in triggers] == [
        "connect",
        "message",
        "disconnect",
    ]
    assert {trigger.attributes["serverless.websocket.connection_id"] for trigger in triggers} == {"QhXmDclFoAMCJqg="}
    assert [trigger.attributes["serverless.websocket.route_key"] for trigger in triggers] == [
        "$connect",
        "sendmessage",
        "$disconnect",
    ]
    connect = event(names[0])
    connect["headers"]["traceparent"] = traceparent(PRODUCER)
    assert parent_of(detect(connect).parent) == PRODUCER


def test_appsync_resolvers_read_the_graphql_request_headers() -> None:
    direct = event("appSyncDirectResolver")
    direct["request"]["headers"]["traceparent"] = traceparent(PRODUCER)
    trigger = detect(direct)
    assert trigger.name == "appsync" and trigger.faas_trigger == "http"
    assert trigger.attributes["graphql.operation.type"] == "mutation"
    assert trigger.attributes["serverless.appsync.field_name"] == "createSomething"
    assert parent_of(trigger.parent) == PRODUCER

    batch = event("appSyncBatchEvent")
    batch[1]["request"] = {"headers": {"traceparent": traceparent(OTHER)}}
    trigger = detect(batch)
    assert trigger.name == "appsync_batch" and trigger.batch and len(trigger.records) == len(batch)
    assert [record.parent is not None for record in trigger.records] == [False, True, False][: len(batch)]
    assert parent_of(trigger.records[1].parent) == OTHER


def test_vpc_lattice_and_s3_object_lambda_read_the_request_headers() -> None:
    for name in ("vpcLatticeV2Event", "vpcLatticeEvent"):
        sample = event(name)
        sample["headers"]["traceparent"] = traceparent(PRODUCER)
        trigger = detect(sample)
        assert trigger.name == "vpc_lattice" and trigger.http
        assert parent_of(trigger.parent) == PRODUCER
    olap = event("s3ObjectEventIAMUser")
    olap["userRequest"]["headers"]["traceparent"] = traceparent(OTHER)
    trigger = detect(olap)
    assert trigger.name == "s3_object_lambda" and parent_of(trigger.parent) == OTHER
    assert "inputS3Url" not in json.dumps(trigger.attributes)


# -- record sources through another service ------------------------------------------


def test_firehose_records_from_a_kinesis_stream_keep_the_producers_context() -> None:
    sample = event("kinesisFirehoseKinesisEvent")
    document = {"click": "/home", "_otel": {"traceparent": traceparent(PRODUCER)}}
    sample["records"][0]["data"] = base64.b64encode(json.dumps(document).encode()).decode()
    trigger = detect(sample)
    assert trigger.name == "firehose" and trigger.batch
    assert parent_of(trigger.records[0].parent) == PRODUCER
    assert trigger.records[1].parent is None
    assert trigger.records[0].item_id == "record1"
    assert trigger.attributes["serverless.firehose.source_stream"]


def test_eventbridge_pipes_deliver_bare_records_read_as_their_source(pipeline: Pipeline) -> None:
    sample = event("pipesSqsEvent")
    sample[0]["messageAttributes"] = {"traceparent": {"stringValue": traceparent(PRODUCER), "dataType": "String"}}
    trigger = detect(sample)
    assert trigger.name == "sqs" and trigger.batch
    assert trigger.attributes["serverless.trigger.via"] == "eventbridge_pipes"
    assert parent_of(trigger.records[0].parent) == PRODUCER
    assert trigger.attempt == 2
    assert detect(event("pipesKinesisEvent")).attributes["serverless.trigger.via"] == "eventbridge_pipes"
    span = run(pipeline, sample)
    assert [link.context for link in span.links] == [PRODUCER]


# -- Lambda destinations -----------------------------------------------------------------


def test_a_destination_joins_the_original_invocations_trace_and_marks_exhausted_retries(pipeline: Pipeline) -> None:
    sample = event("lambdaDestinationOnFailureEvent")
    sample["requestPayload"]["detail"]["_otel"] = {"traceparent": traceparent(PRODUCER)}
    trigger = detect(sample)
    assert trigger.name == "destination"
    assert trigger.attributes["serverless.destination.retries_exhausted"] is True
    assert trigger.attributes["serverless.destination.invoke_count"] == 3
    assert trigger.attributes["serverless.destination.function"] == "charge-card"
    assert trigger.attributes["serverless.destination.function_error"] == "Unhandled"
    assert trigger.attributes["serverless.destination.request_id"] == "e4b46cbf-b738-xmpl-8880-a18cdf61200e"
    assert parent_of(trigger.parent) == PRODUCER
    span = run(pipeline, sample)
    assert span.context.trace_id == PRODUCER.trace_id and span.parent == PRODUCER
    assert span.attributes["serverless.retry"] is False  # the original was retried, not this delivery

    success = detect(event("lambdaDestinationOnSuccessEvent"))
    assert success.attributes["serverless.destination.retries_exhausted"] is False
    assert success.parent is None


def test_a_destination_inside_a_destination_is_read_one_level_deep() -> None:
    inner = event("lambdaDestinationOnFailureEvent")
    outer = event("lambdaDestinationOnFailureEvent")
    nested: Any = inner
    for _ in range(2000):  # deeper than the interpreter's recursion limit
        nested = {**copy.deepcopy(outer), "requestPayload": nested} if _ < 3 else {"requestPayload": nested}
    assert detect(nested).name in {"destination", "fallback"}
    assert detect({**outer, "requestPayload": inner}).parent is None


# -- the rest: recognised, and nothing personal or secret read -------------------------


def test_cloudwatch_logs_reads_only_the_head_of_the_document() -> None:
    trigger = detect(event("cloudWatchLogEvent"))
    assert trigger.attributes["serverless.logs.group"] == "testLogGroup"
    assert trigger.attributes["serverless.logs.message_type"] == "DATA_MESSAGE"
    document = {
        "messageType": "DATA_MESSAGE",
        "logGroup": "/aws/lambda/orders",
        "logStream": "s",
        "logEvents": [{"id": str(i), "message": "x" * 200} for i in range(20_000)],
    }
    big = {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(document).encode())).decode()}}
    assert detect(big).attributes["serverless.logs.group"] == "/aws/lambda/orders"
    for junk in ("!!!", "aGVsbG8=", "", "H4sI" + "A" * 10):
        assert detect({"awslogs": {"data": junk}}).name in {"cloudwatch_logs", "fallback"}


@pytest.mark.parametrize(
    ("name", "secrets"),
    [
        ("codePipelineEvent", ["secretAccessKey", "wJalrXUtnFEMI"]),
        ("cloudformationCustomResourceCreate", ["ResponseURL", "cloudformation-custom-resource-response"]),
        ("cognitoPreSignUpEvent", ["user@example.com", "userName"]),
        ("iotCustomAuthorizerEvent", ["c2VjcmV0LXBhc3N3b3Jk", "aToken", "sensor-7"]),
        ("iotPreProvisioningHookEvent", ["BEGIN CERTIFICATE"]),
        ("appSyncAuthorizerEvent", ["BE9DC5E3-D410-4733-AF76-70178092E681"]),
        ("apiGatewayAuthorizerTokenEvent", ["allow"]),
        ("secretsManagerEvent", ["550e8400-e29b-41d4-a716-446655440000"]),
        ("sesEvent", ["@"]),
        ("s3ObjectEventTempCredentials", ["X-Amz-Security-Token", "outputToken"]),
    ],
)
def test_no_secret_or_personal_value_reaches_the_attributes(name: str, secrets: list[str]) -> None:
    trigger = detect(event(name))
    assert trigger.name != "fallback"
    written = json.dumps(trigger.attributes)
    for secret in secrets:
        assert secret not in written


def _mangled(value: Any, depth: int = 0) -> list[Any]:
    """Variants of an event with each top-level value swapped for a wrong type."""
    if not isinstance(value, dict):
        return [None, [], "x", 7]
    variants: list[Any] = []
    for key in value:
        for wrong in (None, 7, "x", [], {}, [None], {"a": [1, {"b": None}]}):
            variants.append({**value, key: wrong})
    return variants


NEW_SAMPLES = [
    "kafkaEventMsk",
    "activeMQEvent",
    "rabbitMQEvent",
    "cloudFrontViewerRequestEvent",
    "apiGatewayWebSocketConnectEvent",
    "appSyncResolverEvent",
    "appSyncAuthorizerEvent",
    "vpcLatticeV2Event",
    "kinesisFirehoseKinesisEvent",
    "lambdaDestinationOnFailureEvent",
    "cognitoPreSignUpEvent",
    "cloudWatchLogEvent",
    "iotCustomAuthorizerEvent",
    "awsConfigRuleScheduled",
    "sesEvent",
    "codePipelineEvent",
    "codeDeployLifecycleHookEvent",
    "cloudformationCustomResourceCreate",
    "secretsManagerEvent",
    "s3BatchOperationEventSchemaV2",
    "bedrockAgentEvent",
    "connectContactFlowEventMin",
    "cloudWatchAlarmEventSingleMetric",
    "s3ObjectEventIAMUser",
]


@pytest.mark.parametrize("name", NEW_SAMPLES)
def test_wrong_types_anywhere_at_the_top_give_a_trigger_never_an_error(name: str) -> None:
    for variant in _mangled(event(name)):
        found = detect(variant, LambdaContext())
        assert found.name and found.faas_trigger in {"http", "pubsub", "datasource", "timer", "other"}
