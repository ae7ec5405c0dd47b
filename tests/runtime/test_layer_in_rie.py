"""The built layer under the AWS Lambda RIE with awslambdaric: what a function in Lambda gets."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from tests.otlp_receiver import Receiver, otlp_receiver
from tests.runtime.conftest import Start

EVENTS = Path(__file__).resolve().parents[1] / "events"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


def invocations(receiver: Receiver, timeout: float = 10.0, count: int = 1) -> dict[str, dict[str, Any]]:
    """The invocation spans received so far, by faas.invocation_id (waits for *count* of them)."""
    deadline = time.monotonic() + timeout
    while True:
        found = {}
        for resource, span in receiver.spans():
            attributes = {kv.key: getattr(kv.value, kv.value.WhichOneof("value")) for kv in span.attributes}
            if span.kind == Span.SPAN_KIND_SERVER and "faas.invocation_id" in attributes:
                found[str(attributes["faas.invocation_id"])] = {"span": span, "resource": resource, **attributes}
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_first_invocation_is_a_cold_start_and_the_second_is_not(start: Start) -> None:
    with otlp_receiver() as receiver:
        function = start(env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint})
        first = function.invoke({"body": "one"}, headers={"X-Amzn-RequestId": "cold-1"})
        second = function.invoke({"body": "two"}, headers={"X-Amzn-RequestId": "warm-2"})
        spans = invocations(receiver, count=2)
    assert first.status == 200 and first.json() == {"statusCode": 200, "body": "one", "request": "cold-1"}
    assert second.json() == {"statusCode": 200, "body": "two", "request": "warm-2"}
    assert spans["cold-1"]["faas.coldstart"] is True
    assert spans["warm-2"]["faas.coldstart"] is False
    assert spans["cold-1"]["resource"]["faas.name"] == "rie-function", spans["cold-1"]["resource"]
    # One process served both: the emulator's init ran once.
    assert function.log().count("INIT START") == 1


def test_the_trace_continues_from_an_api_gateway_traceparent(start: Start) -> None:
    event = json.loads((EVENTS / "apiGatewayProxyEvent.json").read_text())
    event["headers"] = {**event["headers"], "traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"}
    with otlp_receiver() as receiver:
        function = start(env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint})
        response = function.invoke(event, headers={"X-Amzn-RequestId": "api-1"})
        span = invocations(receiver)["api-1"]
    assert response.status == 200 and response.json()["body"] == event["body"]
    assert span["span"].trace_id.hex() == TRACE_ID
    assert span["span"].parent_span_id.hex() == PARENT_ID
    assert span["faas.trigger"] == "http"
    assert span["http.request.method"] == event["httpMethod"]


def test_a_timed_out_invocation_is_exported_before_the_reset_and_reported_next(start: Start) -> None:
    with otlp_receiver() as receiver:
        function = start(env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "AWS_LAMBDA_FUNCTION_TIMEOUT": "4"})
        # The default watchdog margin (10% of the timeout: 400 ms) on a loaded 2-CPU test machine.
        killed = function.invoke({"sleep": 30}, headers={"X-Amzn-RequestId": "killed-1"})
        assert killed.body == b"Task timed out after 4.00 seconds"
        # The emulator SIGKILLs the runtime at the deadline: what arrived was sent before that.
        assert "Sending SIGKILL to runtime" in function.log()
        before_reset = invocations(receiver, timeout=0.0)
        after = function.invoke({"body": "next"}, headers={"X-Amzn-RequestId": "next-2"})
        spans = invocations(receiver, count=2)
    assert "killed-1" in before_reset
    timed_out = spans["killed-1"]["span"]
    assert timed_out.status.code == Status.STATUS_CODE_ERROR
    assert "timed out" in timed_out.status.message
    assert after.json() == {"statusCode": 200, "body": "next", "request": "next-2"}
    # The emulator reset the environment: a new runtime process, which reports the killed one.
    assert function.log().count("INIT START") == 2
    nxt = spans["next-2"]
    assert nxt["serverless.previous_invocation.killed"] is True
    assert nxt["serverless.previous_invocation.request_id"] == "killed-1"
    assert nxt["serverless.previous_invocation.reason"] == "timeout"


def test_results_and_errors_pass_through_unchanged(start: Start, task: Path) -> None:
    events: list[dict[str, Any]] = [
        {"echo": {"nested": [1, "two", None], "ünïcode": "✓"}},
        {"echo": "a plain string"},
        {"echo": None},
        {"fail": "missing-key"},
    ]
    with otlp_receiver() as receiver:
        plain = start(layer=None)
        traced = start(env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint})
        for event in events:
            bare, ours = plain.invoke(event), traced.invoke(event)
            assert ours.status == bare.status
            if "fail" not in event:
                assert ours.body == bare.body
                continue
            error, expected = ours.json(), bare.json()
            assert (error["errorType"], error["errorMessage"]) == (expected["errorType"], expected["errorMessage"])
            assert error["errorType"] == "KeyError" and error["errorMessage"] == "'missing-key'"
            # The user's own frame is where the trace ends, as without the layer.
            assert error["stackTrace"][-1] == expected["stackTrace"][-1]
            assert str(task / "app.py") in error["stackTrace"][-1]
        spans = invocations(receiver, count=len(events))
    assert len(spans) == len(events)
    failed = [span for span in spans.values() if span["span"].status.code == Status.STATUS_CODE_ERROR]
    assert len(failed) == 1


@pytest.mark.parametrize(
    ("setting", "value", "names"),
    [
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", ("otel-serverless[grpc]", "--with-grpc")),
        ("OTEL_SERVERLESS_EXPORTER", "sdk", ("opentelemetry-exporter-otlp-proto-http", "--with-sdk-exporter")),
    ],
)
def test_an_exporter_left_out_of_the_layer_warns_once_and_ours_exports(
    setting: str, value: str, names: tuple[str, str], start: Start
) -> None:
    with otlp_receiver() as receiver:
        function = start(env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, setting: value})
        responses = [function.invoke({"body": str(n)}, headers={"X-Amzn-RequestId": f"g-{n}"}) for n in range(3)]
        spans = invocations(receiver, count=3)
    assert [response.json()["body"] for response in responses] == ["0", "1", "2"]
    assert set(spans) == {"g-0", "g-1", "g-2"}
    warnings = [line for line in function.log().splitlines() if f"{setting} is {value}" in line]
    assert len(warnings) == 1, function.log()
    assert all(name in warnings[0] for name in names), warnings[0]
