"""Hostile and malformed events: no exception, no hijacked parent, bounded logs."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from otel_serverless.aws_lambda import traced, traced_records
from tests.aws_lambda.conftest import LambdaContext, Pipeline, event, producer, traceparent

PRODUCER = producer()
HUGE = "00-" + "a" * (1024 * 1024)


def deep_list(depth: int) -> Any:
    value: Any = {"b": 1}
    for _ in range(depth):
        value = [value]
    return value


def bad_events() -> dict[str, Any]:
    invalid = event("apiGatewayProxyEvent")
    invalid["headers"]["traceparent"] = "00-00000000000000000000000000000000-0000000000000000-01"
    huge = event("apiGatewayProxyV2Event")
    huge["headers"]["traceparent"] = HUGE
    twice = event("albMultiValueHeadersEvent")
    twice["multiValueHeaders"]["traceparent"] = [traceparent(PRODUCER), traceparent(producer(span_id=7))]
    comma = event("lambdaFunctionUrlEvent")
    comma["headers"]["traceparent"] = f"{traceparent(PRODUCER)},{traceparent(producer(span_id=7))}"
    types = event("apiGatewayProxyEvent")
    types["headers"] = {"traceparent": 12, 5: "x", "user-agent": ["list"]}
    types["multiValueHeaders"] = {"traceparent": "not a list"}
    types["requestContext"]["identity"] = "nope"
    sqs_types = event("sqsEvent")
    sqs_types["Records"][0]["messageAttributes"] = {"traceparent": {"stringValue": ["x"]}}
    sqs_types["Records"][0]["attributes"] = {"ApproximateReceiveCount": {"n": 1}}
    sqs_types["Records"][1]["body"] = None
    sns_types = event("snsEvent")
    sns_types["Records"][0]["Sns"] = "oops"
    kinesis_types = event("kinesisStreamEvent")
    kinesis_types["Records"][0]["kinesis"]["data"] = "%%% not base64"
    return {
        "none": None,
        "list": [1, 2, 3],
        "string": "hello",
        "bytes": b"\x00\xff",
        "int": 42,
        "empty": {},
        "records-not-list": {"Records": "x"},
        "records-of-junk": {"Records": [None, 1, "a", []]},
        "records-empty": {"Records": []},
        "request-context-junk": {"requestContext": [], "httpMethod": 3},
        "invalid-traceparent": invalid,
        "megabyte-header": huge,
        "two-traceparents": twice,
        "comma-joined-traceparents": comma,
        "wrong-types-http": types,
        "wrong-types-sqs": sqs_types,
        "wrong-types-sns": sns_types,
        "wrong-types-kinesis": kinesis_types,
        "deep": {"a": deep_list(200)},
    }


@pytest.mark.parametrize("name", sorted(bad_events()))
def test_bad_events_never_raise_nor_hijack_the_parent(
    name: str, pipeline: Pipeline, caplog: pytest.LogCaptureFixture
) -> None:
    payload = bad_events()[name]
    caplog.set_level(logging.DEBUG)

    @traced(tracer_provider=pipeline.provider)
    def handler(incoming: Any, context: Any) -> Any:
        list(traced_records(incoming))
        return incoming

    assert handler(payload, LambdaContext()) is payload
    span = pipeline.invocation()
    assert span.parent is None
    assert all(link.context.span_id != 7 for link in span.links)
    for record in caplog.records:
        message = record.getMessage()
        assert len(message) <= 600
        assert HUGE[:200] not in message


def test_a_context_that_is_not_a_lambda_context(pipeline: Pipeline) -> None:
    @traced(tracer_provider=pipeline.provider)
    def handler(incoming: Any, context: Any) -> str:
        return "ok"

    class Broken:
        aws_request_id = 12
        memory_limit_in_mb = "lots"

        def get_remaining_time_in_millis(self) -> int:
            raise RuntimeError("no clock")

    assert handler({}, None) == "ok"
    assert handler({}, Broken()) == "ok"
    assert len([s for s in pipeline.spans() if "faas.invocation_id" in s.attributes]) == 2


def test_oversize_header_warning_is_bounded_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    from otel_serverless.aws_lambda.triggers import detect

    payload = bad_events()["megabyte-header"]
    with caplog.at_level(logging.WARNING, logger="otel_serverless"):
        detect(payload)
        detect(payload)
    warnings = [r.getMessage() for r in caplog.records if "longer than" in r.getMessage()]
    assert len(warnings) == 1
    assert "aaaa" not in warnings[0]


def test_a_failing_detector_is_reported_and_falls_back(monkeypatch: pytest.MonkeyPatch, pipeline: Pipeline) -> None:
    pytest.importorskip("otel_serverless.propagation.sqs")
    from otel_serverless import _guard
    from otel_serverless.propagation import sqs

    def explode(record: Any) -> Any:
        raise RuntimeError("getter bug")

    monkeypatch.setattr(sqs, "extract_lambda_record", explode)

    @traced(tracer_provider=pipeline.provider)
    def handler(incoming: Any, context: Any) -> str:
        return "ok"

    assert handler(event("sqsEvent"), LambdaContext()) == "ok"
    assert pipeline.invocation().attributes["serverless.trigger"] == "sqs"
    assert [key for key, _ in _guard.swallowed] == ["extract.sqs", "extract.sqs"]
    _guard.swallowed.clear()
