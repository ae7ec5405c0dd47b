"""W3C-injected variants of every messaging event: parents for single messages, links for batches."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from opentelemetry import baggage, trace
from opentelemetry.trace import SpanContext, SpanKind, StatusCode

from otel_serverless.aws_lambda import traced, traced_records
from tests.aws_lambda.conftest import LambdaContext, Pipeline, event, producer, traceparent

PRODUCER = producer()
OTHER = producer(0x11111111111111111111111111111111, 0x2222222222222222)


def slot(context: Any = PRODUCER) -> str:
    return json.dumps({"traceparent": traceparent(context)})


def sqs_with(record: dict[str, Any], context: Any = PRODUCER) -> dict[str, Any]:
    record["messageAttributes"] = {"traceparent": {"stringValue": traceparent(context), "dataType": "String"}}
    return record


def sns_envelope_with(body: str, context: Any = PRODUCER) -> str:
    envelope = json.loads(body)
    envelope["MessageAttributes"] = {"traceparent": {"Type": "String", "Value": traceparent(context)}}
    return json.dumps(envelope)


def run(pipeline: Pipeline, payload: Any, context: Any = None, *, records: bool = False) -> Any:
    @traced(tracer_provider=pipeline.provider)
    def handler(incoming: Any, lambda_context: Any) -> str:
        if records:
            for _ in traced_records(incoming):
                pass
        return "done"

    assert handler(payload, context or LambdaContext()) == "done"
    return pipeline.invocation()


def single_messages() -> dict[str, Any]:
    sns = event("snsEvent")
    sns["Records"][0]["Sns"]["MessageAttributes"]["traceparent"] = {"Type": "String", "Value": traceparent(PRODUCER)}
    bridge = event("eventBridgeEvent")
    bridge["detail"]["_otel"] = {"traceparent": traceparent(PRODUCER)}
    rest = event("apiGatewayProxyEvent")
    rest["headers"]["traceparent"] = traceparent(PRODUCER)
    rest["multiValueHeaders"]["traceparent"] = [traceparent(PRODUCER)]
    http = event("apiGatewayProxyV2Event")
    http["headers"]["TraceParent"] = traceparent(PRODUCER)
    alb = event("albMultiValueHeadersEvent")
    alb["multiValueHeaders"]["traceparent"] = [traceparent(PRODUCER)]
    url = event("lambdaFunctionUrlEvent")
    url["headers"]["traceparent"] = traceparent(PRODUCER)
    steps = {"_otel": {"traceparent": traceparent(PRODUCER)}, "order": 1}
    return {"sns": sns, "eventbridge": bridge, "rest": rest, "http": http, "alb": alb, "url": url, "steps": steps}


@pytest.mark.parametrize("name", sorted(single_messages()))
def test_single_message_producer_is_the_parent(name: str, pipeline: Pipeline) -> None:
    span = run(pipeline, single_messages()[name])
    assert span.parent is not None and span.parent.is_remote
    assert (span.parent.trace_id, span.parent.span_id) == (PRODUCER.trace_id, PRODUCER.span_id)
    assert span.context.trace_id == PRODUCER.trace_id


def test_direct_invoke_client_context_is_the_parent(pipeline: Pipeline) -> None:
    class ClientContext:
        custom = {"traceparent": traceparent(PRODUCER)}  # noqa: RUF012  # the runtime's plain attribute
        env: dict[str, str] = {}  # noqa: RUF012
        client = None

    span = run(pipeline, {"order": 1}, LambdaContext(client_context=ClientContext()))
    assert span.attributes["serverless.trigger"] == "lambda_invoke"
    assert span.parent.span_id == PRODUCER.span_id


def batch_variants() -> dict[str, tuple[Any, int]]:
    sqs = event("sqsEvent")
    sqs_with(sqs["Records"][0], PRODUCER)
    sqs_with(sqs["Records"][1], OTHER)
    raw = event("snsSqsEvent")  # SNS→SQS, raw delivery: the attribute arrives as an SQS attribute
    sqs_with(raw["Records"][0])
    envelope = event("snsSqsFifoEvent")  # SNS→SQS with the SNS envelope in the body
    envelope["Records"][0]["body"] = sns_envelope_with(envelope["Records"][0]["body"])
    bridge = event("sqsEvent")  # EventBridge→SQS: the event is the body
    bridge["Records"] = bridge["Records"][:1]
    bridge["Records"][0]["body"] = json.dumps({**event("eventBridgeEvent"), "detail": {"_otel": json.loads(slot())}})
    kinesis = event("kinesisStreamEvent")
    for record, context in zip(kinesis["Records"], (PRODUCER, OTHER), strict=True):
        data = {"_otel": {"traceparent": traceparent(context)}, "message": "hi"}
        record["kinesis"]["data"] = base64.b64encode(json.dumps(data).encode()).decode()
    dynamo = event("dynamoStreamEvent")
    dynamo["Records"][0]["dynamodb"]["NewImage"]["_otel"] = {"S": slot(PRODUCER)}
    dynamo["Records"][1]["dynamodb"]["NewImage"]["_otel"] = {"S": slot(OTHER)}
    return {
        "sqs": (sqs, 2),
        "sns-raw": (raw, 1),
        "sns-envelope": (envelope, 1),
        "eventbridge-sqs": (bridge, 1),
        "kinesis": (kinesis, 2),
        "dynamodb": (dynamo, 2),
    }


@pytest.mark.parametrize("name", sorted(batch_variants()))
def test_batch_links_every_producer_and_records_are_their_children(name: str, pipeline: Pipeline) -> None:
    payload, count = batch_variants()[name]
    span = run(pipeline, payload, records=True)
    if count == 1:
        # Every producer in one trace: the invocation joins it (and still links).
        assert span.parent.span_id == PRODUCER.span_id
        assert span.context.trace_id == PRODUCER.trace_id
    else:
        assert span.parent is None  # producers from several traces: a trace of its own
    producer_links = [link for link in span.links if link.context.trace_id in (PRODUCER.trace_id, OTHER.trace_id)]
    assert len(producer_links) == count
    assert all("messaging.message.id" in link.attributes for link in producer_links)
    processing = [s for s in pipeline.spans() if s.name.startswith("process ")]
    assert len(processing) == count
    for record_span in processing:
        assert record_span.kind == SpanKind.CONSUMER
        assert record_span.parent.span_id in (PRODUCER.span_id, OTHER.span_id)
        assert record_span.context.trace_id == record_span.parent.trace_id
        assert [link.context.span_id for link in record_span.links][:1] == [span.context.span_id]


def test_a_batch_from_one_trace_starts_its_own_when_batch_parent_is_never(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_BATCH_PARENT", "never")
    payload, _ = batch_variants()["sns-raw"]
    span = run(pipeline, payload, records=True)
    assert span.parent is None
    assert [link.context.span_id for link in span.links] == [PRODUCER.span_id]


def test_a_batch_whose_producers_share_a_trace_joins_it(pipeline: Pipeline) -> None:
    payload = event("sqsEvent")
    same_trace = SpanContext(PRODUCER.trace_id, 0x1111111111111111, is_remote=True, trace_flags=PRODUCER.trace_flags)
    sqs_with(payload["Records"][0], PRODUCER)
    sqs_with(payload["Records"][1], same_trace)
    span = run(pipeline, payload)
    assert span.parent.span_id == PRODUCER.span_id
    assert sorted(link.context.span_id for link in span.links) == sorted([PRODUCER.span_id, 0x1111111111111111])


def test_mixed_valid_and_invalid_contexts_in_one_batch(pipeline: Pipeline) -> None:
    payload = event("sqsEvent")
    sqs_with(payload["Records"][0])
    payload["Records"][1]["messageAttributes"] = {
        "traceparent": {"stringValue": "00-zz-broken-01", "dataType": "String"}
    }
    payload["Records"].append("not a record")
    span = run(pipeline, payload, records=True)
    assert [link.context.span_id for link in span.links] == [PRODUCER.span_id]
    first, second = sorted(
        (s for s in pipeline.spans() if s.name.startswith("process ")),
        key=lambda s: s.attributes["serverless.record.index"],
    )
    assert first.parent.span_id == PRODUCER.span_id
    assert second.parent.span_id == span.context.span_id  # no producer: a child of the invocation


def test_batch_item_failures_mark_the_matching_records(pipeline: Pipeline) -> None:
    payload = event("sqsEvent")

    @traced(tracer_provider=pipeline.provider)
    def handler(incoming: Any, lambda_context: Any) -> dict[str, Any]:
        failed = []
        for record in traced_records(incoming):
            if record["body"] == "Test message.":
                failed.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failed}

    handler(payload, LambdaContext())
    processing = {s.attributes["messaging.message.id"]: s for s in pipeline.spans() if s.name.startswith("process ")}
    assert processing["059f36b4-87a3-44ab-83d2-661975830a7d"].status.status_code == StatusCode.ERROR
    assert processing["059f36b4-87a3-44ab-83d2-661975830a7d"].attributes["serverless.record.failed"] is True
    assert processing["2e1424d4-f796-459a-8184-9c92662be6da"].status.status_code == StatusCode.UNSET
    for record_span in processing.values():
        assert record_span.end_time <= pipeline.invocation().end_time


def test_the_invocation_counts_its_failed_records(pipeline: Pipeline) -> None:
    payload = event("sqsEvent")
    failed = [{"itemIdentifier": payload["Records"][0]["messageId"]}, {"itemIdentifier": "not one of ours"}]

    @traced(tracer_provider=pipeline.provider)
    def handler(incoming: Any, lambda_context: Any) -> dict[str, Any]:
        for _ in traced_records(incoming):
            pass
        return {"batchItemFailures": failed}

    handler(payload, LambdaContext())
    invocation = pipeline.invocation()
    assert invocation.attributes["serverless.batch.failed_records"] == 1  # the unknown identifier is not a record
    assert invocation.status.status_code == StatusCode.UNSET  # the batch was answered: AWS retries only that one
    processing = [s for s in pipeline.spans() if s.name.startswith("process ")]
    assert len(processing) == 2  # traced_records' own spans, no second one for the failed record


def test_without_traced_records_each_failed_record_still_gets_an_error_span_in_its_producers_trace(
    pipeline: Pipeline,
) -> None:
    payload = event("sqsEvent")
    sqs_with(payload["Records"][0], PRODUCER)
    sqs_with(payload["Records"][1], OTHER)

    @traced(tracer_provider=pipeline.provider)
    def handler(incoming: Any, lambda_context: Any) -> dict[str, Any]:  # zero-code: no per-record spans
        return {"batchItemFailures": [{"itemIdentifier": incoming["Records"][1]["messageId"]}]}

    handler(payload, LambdaContext())
    invocation = pipeline.invocation()
    assert invocation.attributes["serverless.batch.failed_records"] == 1
    (failed,) = [s for s in pipeline.spans() if s.name.startswith("process ")]
    assert failed.parent == OTHER  # in the failed message's producer's trace
    assert failed.status.status_code == StatusCode.ERROR and failed.attributes["serverless.record.failed"] is True
    assert failed.attributes["messaging.message.id"] == payload["Records"][1]["messageId"]
    assert [link.context.span_id for link in failed.links] == [invocation.context.span_id]


def test_a_batch_that_raises_fails_every_record_each_in_its_producers_trace(pipeline: Pipeline) -> None:
    payload = event("sqsEvent")
    sqs_with(payload["Records"][0], PRODUCER)

    @traced(tracer_provider=pipeline.provider)
    def handler(incoming: Any, lambda_context: Any) -> None:
        raise KeyError("text")  # the whole batch goes back to the queue

    with pytest.raises(KeyError):
        handler(payload, LambdaContext())
    invocation = pipeline.invocation()
    assert invocation.attributes["serverless.batch.failed_records"] == 2
    failed = sorted(
        (s for s in pipeline.spans() if s.name.startswith("process ")),
        key=lambda s: s.attributes["serverless.record.index"],
    )
    assert [s.status.description for s in failed] == ["the batch failed: KeyError"] * 2
    assert failed[0].parent == PRODUCER and failed[1].parent.span_id == invocation.context.span_id


def test_with_capture_on_each_record_span_shows_its_message(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_CAPTURE_PAYLOAD", "true")
    sqs, kinesis = event("snsSqsEvent"), event("kinesisStreamEvent")
    messages = []
    for payload in (sqs, kinesis):
        each = Pipeline()
        run(each, payload, records=True)
        messages += [s.attributes["serverless.payload.message"] for s in each.spans() if s.name.startswith("process ")]
    envelope = json.loads(sqs["Records"][0]["body"])
    assert json.loads(messages[0])["Message"] == json.loads(envelope["Message"])  # the SNS envelope, decoded within
    assert json.loads(messages[1]) == "Hello, this is a test."  # Kinesis data, base64-decoded


def test_a_record_that_raises_carries_the_error(pipeline: Pipeline) -> None:
    @traced(tracer_provider=pipeline.provider)
    def handler(incoming: Any, lambda_context: Any) -> None:
        for record in traced_records(incoming):
            if record["messageId"].startswith("2e14"):
                raise ValueError("bad record")

    with pytest.raises(ValueError, match="bad record"):
        handler(event("sqsEvent"), LambdaContext())
    processing = sorted(
        (s for s in pipeline.spans() if s.name.startswith("process ")),
        key=lambda s: s.attributes["serverless.record.index"],
    )
    assert [s.status.status_code for s in processing] == [StatusCode.UNSET, StatusCode.ERROR]
    assert processing[1].events[0].name == "exception"


def test_traced_records_outside_an_invocation_ends_each_span(pipeline: Pipeline) -> None:
    payload = event("kinesisStreamEvent")
    seen = list(traced_records(payload, tracer_provider=pipeline.provider))
    assert seen == payload["Records"]
    assert len([s for s in pipeline.spans() if s.name == "process lambda-stream"]) == 2


def test_s3_records_link_deterministically_to_the_writer(pipeline: Pipeline) -> None:
    from otel_serverless.propagation import s3

    span = run(pipeline, event("s3Event"))
    (link,) = span.links
    record = event("s3Event")["Records"][0]["s3"]
    expected = s3.correlation_key(record["bucket"]["name"], record["object"]["key"], record["object"]["eTag"])
    assert link.attributes["serverless.link.correlation_id"] == expected
    again = Pipeline()
    assert run(again, event("s3Event")).links[0].context == link.context  # same object → same ids


def test_dynamodb_records_link_deterministically_to_the_writer(pipeline: Pipeline) -> None:
    from otel_serverless.propagation import dynamodb

    payload = event("dynamoStreamEvent")
    for record in payload["Records"]:
        record["eventSourceARN"] = "arn:aws:dynamodb:us-west-2:123456789012:table/Orders/stream/2024-01-01T00:00:00.000"
    span = run(pipeline, payload)
    ids = {link.attributes.get("serverless.link.correlation_id") for link in span.links}
    assert dynamodb.correlation_key("Orders", {"Id": {"N": "101"}}) in ids


def test_untrusted_inbound_starts_a_new_trace_with_a_link(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_TRUST_INBOUND", "false")
    monkeypatch.setenv("OTEL_PROPAGATORS", "tracecontext,baggage")
    from opentelemetry import propagate
    from opentelemetry.baggage.propagation import W3CBaggagePropagator
    from opentelemetry.propagators.composite import CompositePropagator
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    previous = propagate.get_global_textmap()
    propagate.set_global_textmap(CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()]))
    try:
        payload = event("apiGatewayProxyV2Event")
        payload["headers"]["traceparent"] = traceparent(PRODUCER)
        payload["headers"]["baggage"] = "tenant=evil"
        seen: list[Any] = []

        @traced(tracer_provider=pipeline.provider)
        def handler(incoming: Any, lambda_context: Any) -> None:
            seen.append(dict(baggage.get_all()))

        handler(payload, LambdaContext())
        span = pipeline.invocation()
        assert span.parent is None and span.context.trace_id != PRODUCER.trace_id
        assert span.attributes["serverless.inbound.untrusted"] is True
        assert span.links[0].context.span_id == PRODUCER.span_id
        assert span.links[0].attributes["serverless.link.untrusted"] is True
        assert seen == [{}]

        monkeypatch.setenv("OTEL_SERVERLESS_TRUST_INBOUND", "true")
        handler(payload, LambdaContext("req-2"))
        assert seen[1] == {"tenant": "evil"}  # trusted: baggage reaches the handler
    finally:
        propagate.set_global_textmap(previous)


def test_no_producer_means_a_new_root_not_the_ambient_span(pipeline: Pipeline) -> None:
    tracer = pipeline.provider.get_tracer("test")
    with tracer.start_as_current_span("ambient"):
        span = run(pipeline, event("sqsEvent"))
    assert span.parent is None
    assert trace.get_current_span().get_span_context().is_valid is False
