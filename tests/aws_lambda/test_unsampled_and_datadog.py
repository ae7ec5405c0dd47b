"""Sampling that never silences an invocation by accident, and Datadog's context wherever it rides.

An SQS record whose only context is an ``AWSTraceHeader`` with ``Sampled=0`` — what a
producer without active X-Ray tracing sends — must not become the parent that makes
the parent-based sampler (the SDK's default) drop the invocation: it is a link,
unless ``OTEL_SERVERLESS_XRAY_UNSAMPLED=obey``. Datadog's ``_datadog`` context is read
from message attributes, EventBridge details (also inside an SQS body), Kinesis data,
Step Functions input and SNS→SQS envelopes. Real samples, the real SDK sampler.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from otel_serverless.aws_lambda import traced, traced_records
from tests.aws_lambda.conftest import LambdaContext, Pipeline, event

XRAY_ROOT = "1-64cc2edd-112fbf1701d1355973a11d57"
UNSAMPLED = f"Root={XRAY_ROOT};Parent=7d5a9776024b2d42;Sampled=0"
SAMPLED = f"Root={XRAY_ROOT};Parent=7d5a9776024b2d42;Sampled=1"
XRAY_TRACE_ID = int(XRAY_ROOT[2:].replace("-", ""), 16)
#: dd-trace's fields as its W3C and Datadog styles write them (trace id 7379586022458917877).
DATADOG_W3C = {
    "x-datadog-trace-id": "7379586022458917877",
    "x-datadog-parent-id": "2644033662113726488",
    "x-datadog-sampling-priority": "1",
    "x-datadog-tags": "_dd.p.dm=-0",
    "traceparent": "00-000000000000000066698e63821a03f5-24b17e9b6476c018-01",
    "tracestate": "dd=t.dm:-0;s:1",
}
DATADOG_ONLY = {
    "x-datadog-trace-id": "7379586022458917877",
    "x-datadog-parent-id": "2644033662113726488",
    "x-datadog-sampling-priority": "1",
    "x-datadog-tags": "_dd.p.tid=66cf5a2a00000000",
}
DATADOG_TRACE_ID = 7379586022458917877
DATADOG_TRACE_ID_128 = (0x66CF5A2A00000000 << 64) | DATADOG_TRACE_ID
DATADOG_PARENT = 2644033662113726488


def _run(pipeline: Pipeline, incoming: Any) -> Any:
    @traced(tracer_provider=pipeline.provider)
    def handler(received: Any, context: Any) -> str:
        for _ in traced_records(received, tracer_provider=pipeline.provider):
            pass
        return "ok"

    assert handler(incoming, LambdaContext()) == "ok"
    return pipeline.invocation()


def _sqs_with_trace_header(header: str) -> Any:
    found = event("sqsEvent")
    found["Records"] = found["Records"][:1]
    found["Records"][0]["attributes"]["AWSTraceHeader"] = header
    found["Records"][0]["messageAttributes"] = {}
    return found


def _eventbridge_sqs() -> Any:
    """Datadog's ``eventbridge-sqs.json`` sample (datadog-lambda-python tests/event_samples), with the
    body as Lambda delivers it: the EventBridge event as JSON text."""
    found = _sqs_with_trace_header(UNSAMPLED)
    found["Records"][0]["body"] = json.dumps(
        {
            "version": "0",
            "id": "af718b2a-b987-e8c0-7a2b-a188fad2661a",
            "detail-type": "my.Detail",
            "source": "my.Source",
            "account": "425362996713",
            "time": "2023-08-03T22:49:03Z",
            "region": "us-east-1",
            "resources": [],
            "detail": {"text": "Hello, world!", "_datadog": DATADOG_W3C},
        }
    )
    return found


def test_an_unsampled_aws_trace_header_is_a_link_not_a_silencing_parent(pipeline: Pipeline) -> None:
    invocation = _run(pipeline, _sqs_with_trace_header(UNSAMPLED))
    assert invocation.context.trace_id != XRAY_TRACE_ID  # a trace of its own, sampled by our sampler
    (link,) = [link for link in invocation.links if link.attributes.get("serverless.link.xray_unsampled")]
    assert link.context.trace_id == XRAY_TRACE_ID and link.context.span_id == 0x7D5A9776024B2D42
    (record,) = [span for span in pipeline.spans() if span.name.startswith("process ")]
    assert record.context.trace_id == invocation.context.trace_id  # the record span is not silenced either
    assert any(link.context.trace_id == XRAY_TRACE_ID for link in record.links)


def test_obey_lets_the_header_decide(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_XRAY_UNSAMPLED", "obey")

    @traced(tracer_provider=pipeline.provider)
    def handler(received: Any, context: Any) -> str:
        return "ok"

    assert handler(_sqs_with_trace_header(UNSAMPLED), LambdaContext()) == "ok"
    assert pipeline.spans() == []  # what happened before: the parent-based sampler drops it all


def test_a_sampled_aws_trace_header_stays_the_parent(pipeline: Pipeline) -> None:
    invocation = _run(pipeline, _sqs_with_trace_header(SAMPLED))
    assert invocation.context.trace_id == XRAY_TRACE_ID
    assert invocation.parent is not None and invocation.parent.span_id == 0x7D5A9776024B2D42


def test_datadogs_eventbridge_sqs_sample_joins_the_datadog_trace(pipeline: Pipeline) -> None:
    invocation = _run(pipeline, _eventbridge_sqs())
    assert invocation.context.trace_id == DATADOG_TRACE_ID  # the sampled _datadog context in the detail wins
    assert invocation.parent.span_id == 0x24B17E9B6476C018


def _datadog_eventbridge() -> Any:
    found = event("eventBridgeEvent")
    found["detail"] = {**found["detail"], "_datadog": DATADOG_ONLY}
    return found


def _datadog_kinesis() -> Any:
    found = event("kinesisStreamEventOneRecord")
    data = {"order": 7, "_datadog": DATADOG_ONLY}
    found["Records"][0]["kinesis"]["data"] = base64.b64encode(json.dumps(data).encode()).decode()
    return found


def _datadog_step_functions() -> Any:
    return {"order": 7, "_datadog": DATADOG_ONLY}


def _datadog_sns_sqs() -> Any:
    found = event("snsSqsEvent")
    envelope = json.loads(found["Records"][0]["body"])
    encoded = base64.b64encode(json.dumps(DATADOG_ONLY).encode()).decode()
    envelope["MessageAttributes"] = {"_datadog": {"Type": "Binary", "Value": encoded}}
    found["Records"][0]["body"] = json.dumps(envelope)
    found["Records"][0]["attributes"]["AWSTraceHeader"] = UNSAMPLED
    return found


def _datadog_sqs_attribute() -> Any:
    found = _sqs_with_trace_header(UNSAMPLED)
    found["Records"][0]["messageAttributes"] = {
        "_datadog": {"stringValue": json.dumps(DATADOG_ONLY), "dataType": "String"}
    }
    return found


@pytest.mark.parametrize(
    "make",
    [_datadog_eventbridge, _datadog_kinesis, _datadog_step_functions, _datadog_sns_sqs, _datadog_sqs_attribute],
)
def test_datadogs_own_style_is_read_wherever_datadog_writes_it(pipeline: Pipeline, make: Any) -> None:
    invocation = _run(pipeline, make())
    producer = invocation.parent or next(iter(invocation.links)).context
    assert producer.trace_id == DATADOG_TRACE_ID_128
    assert producer.span_id == DATADOG_PARENT


@pytest.mark.parametrize("setting", ["link", "obey"])
def test_the_setting_also_governs_an_async_invokes_trace_header(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    # An asynchronous invoke (no records, no client context): the worker's _X_AMZN_TRACE_ID.
    monkeypatch.setenv("_X_AMZN_TRACE_ID", UNSAMPLED)
    monkeypatch.setenv("OTEL_SERVERLESS_XRAY_UNSAMPLED", setting)

    @traced(tracer_provider=pipeline.provider)
    def handler(received: Any, context: Any) -> str:
        return "ok"

    assert handler({"order": 7}, LambdaContext()) == "ok"
    if setting == "obey":
        assert pipeline.spans() == []
    else:
        (link,) = pipeline.invocation().links
        assert link.context.trace_id == XRAY_TRACE_ID and link.attributes["serverless.link.xray_unsampled"]
