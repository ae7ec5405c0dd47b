"""Serverless semantics on the invocation span: cold start, retries, errors, timeouts, memory, cost, payload."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import StatusCode

from otel_serverless.aws_lambda import _state, traced
from otel_serverless.processors import Prices
from tests.aws_lambda.conftest import LambdaContext, Pipeline, event


def traced_by(pipeline: Pipeline, body: Any = None) -> Any:
    @traced(tracer_provider=pipeline.provider)
    def handler(incoming: Any, context: Any) -> Any:
        return body(incoming, context) if body else {"statusCode": 200}

    return handler


def ended(pipeline: Pipeline) -> bool:
    """The invocation span was exported (by the watchdog, in the timeout tests)."""
    return any("faas.invocation_id" in span.attributes for span in pipeline.spans())


# -- cold start ---------------------------------------------------------------------------


def test_cold_start_then_warm(pipeline: Pipeline) -> None:
    handler = traced_by(pipeline)
    handler({}, LambdaContext("first"))
    handler({}, LambdaContext("second"))
    spans = pipeline.spans()
    first, second = (s for s in spans if "faas.invocation_id" in s.attributes)
    assert first.attributes["faas.coldstart"] is True
    assert first.attributes["serverless.init.type"] == "on-demand"
    assert first.attributes["serverless.init.duration_ms"] > 0
    assert second.attributes["faas.coldstart"] is False
    assert "serverless.init.type" not in second.attributes
    (init,) = [s for s in spans if s.name == "init"]
    assert init.parent.span_id == first.context.span_id
    assert init.end_time == first.start_time and init.start_time < init.end_time


def test_each_execution_environment_has_its_own_cold_start(pipeline: Pipeline) -> None:
    # One process hosting several environments (the local runtime does): told apart by log stream.
    handler = traced_by(pipeline)
    first, second, again = LambdaContext("a"), LambdaContext("b"), LambdaContext("c")
    second.log_stream_name = "2024/01/01/[$LATEST]def"
    for context in (first, second, again):
        handler({}, context)
    colds = {
        span.attributes["faas.invocation_id"]: span.attributes["faas.coldstart"]
        for span in pipeline.spans()
        if "faas.invocation_id" in span.attributes
    }
    assert colds == {"a": True, "b": True, "c": False}
    # Only the process's first environment can know its init duration.
    (init,) = [s for s in pipeline.spans() if s.name == "init"]
    assert init is not None


@pytest.mark.parametrize("kind", ["provisioned-concurrency", "snap-start"])
def test_init_types_are_told_apart(kind: str, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", kind)
    traced_by(pipeline)({}, LambdaContext())
    span = pipeline.invocation()
    assert span.attributes["faas.coldstart"] is True
    assert span.attributes["serverless.init.type"] == kind
    # The process started long before (provisioned) or in another life (snapshot): no duration, no init span.
    assert "serverless.init.duration_ms" not in span.attributes
    assert not [s for s in pipeline.spans() if s.name == "init"]
    assert span.attributes.get("serverless.snapstart.restored", False) is (kind == "snap-start")


# -- retries ------------------------------------------------------------------------------


def test_sqs_receive_count_is_the_attempt(pipeline: Pipeline) -> None:
    payload = event("sqsEvent")
    payload["Records"][1]["attributes"]["ApproximateReceiveCount"] = "3"
    traced_by(pipeline)(payload, LambdaContext())
    span = pipeline.invocation()
    assert span.attributes["serverless.retry.attempt"] == 3
    assert span.attributes["serverless.retry"] is True


def test_async_retry_same_request_id_in_a_warm_environment(pipeline: Pipeline) -> None:
    handler = traced_by(pipeline)
    handler({"a": 1}, LambdaContext("same"))
    handler({"a": 1}, LambdaContext("other"))
    handler({"a": 1}, LambdaContext("same"))
    attempts = [
        s.attributes["serverless.retry.attempt"] for s in pipeline.spans() if "faas.invocation_id" in s.attributes
    ]
    assert attempts == [1, 1, 2]


def test_stream_record_seen_again(pipeline: Pipeline) -> None:
    handler = traced_by(pipeline)
    handler(event("kinesisStreamEvent"), LambdaContext("one"))
    other = event("kinesisStreamEvent")
    for record in other["Records"]:
        record["kinesis"]["sequenceNumber"] += "1"
    handler(other, LambdaContext("two"))
    handler(event("kinesisStreamEvent"), LambdaContext("three"))
    retried = [s.attributes["serverless.retry"] for s in pipeline.spans() if "faas.invocation_id" in s.attributes]
    assert retried == [False, False, True]


def test_step_functions_retry_count(pipeline: Pipeline) -> None:
    payload = {"Execution": {"Id": "arn:aws:states:us-east-1:1:execution:m:e"}, "State": {"Name": "S", "RetryCount": 1}}
    traced_by(pipeline)(payload, LambdaContext())
    assert pipeline.invocation().attributes["serverless.retry.attempt"] == 2


# -- errors -------------------------------------------------------------------------------


class Boom(Exception):
    pass


def test_exceptions_are_recorded_and_reraised_unchanged(pipeline: Pipeline) -> None:
    raised = Boom("card declined")

    def fail(incoming: Any, context: Any) -> Any:
        raise raised

    with pytest.raises(Boom) as caught:
        traced_by(pipeline, fail)({}, LambdaContext())
    assert caught.value is raised
    assert caught.traceback[-1].name == "fail"  # the user's frame is still the origin
    span = pipeline.invocation()
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["error.type"] == "Boom"
    assert span.events[0].name == "exception"
    assert span.events[0].attributes["exception.message"] == "card declined"


@pytest.mark.parametrize(("status", "error"), [(200, False), (404, False), (500, True), (503, True)])
def test_http_5xx_is_an_error(status: int, error: bool, pipeline: Pipeline) -> None:
    traced_by(pipeline, lambda e, c: {"statusCode": status, "body": ""})(event("apiGatewayProxyEvent"), LambdaContext())
    span = pipeline.invocation()
    assert span.attributes["http.response.status_code"] == status
    assert (span.status.status_code == StatusCode.ERROR) is error


def test_5xx_from_a_non_http_trigger_is_just_a_result(pipeline: Pipeline) -> None:
    traced_by(pipeline, lambda e, c: {"statusCode": 500})(event("sqsEvent"), LambdaContext())
    assert pipeline.invocation().status.status_code == StatusCode.UNSET


# -- timeouts -----------------------------------------------------------------------------


class Flushes(SpanProcessor):
    """Records force_flush calls and their deadlines, and the spans ended before each."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.ended: list[str] = []
        self.ended_before_flush: list[list[str]] = []

    def on_end(self, span: ReadableSpan) -> None:
        self.ended.append(span.name)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        self.calls.append(timeout_millis)
        self.ended_before_flush.append(list(self.ended))
        return True


def test_timeout_with_a_real_deadline(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_TIMEOUT_MARGIN_MS", "300")
    flushes = Flushes()
    pipeline.provider.add_span_processor(flushes)
    tracer = pipeline.provider.get_tracer("user")
    timed_out = threading.Event()

    def slow(incoming: Any, context: Any) -> str:
        with tracer.start_as_current_span("charge card"), tracer.start_as_current_span("http call"):
            # Wait until the watchdog has ended everything; the platform would kill us now.
            for _ in range(100):
                if ended(pipeline):
                    break
                time.sleep(0.05)
            timed_out.set()
        return "too late"

    context = LambdaContext(timeout_ms=800)
    assert traced_by(pipeline, slow)({}, context) == "too late"
    assert timed_out.is_set()
    span = pipeline.invocation()
    assert span.attributes["serverless.timeout"] is True
    assert span.status.status_code == StatusCode.ERROR
    assert "serverless.timeout" in [e.name for e in span.events]
    children = {s.name: s for s in pipeline.spans() if s.name in ("charge card", "http call")}
    assert set(children) == {"charge card", "http call"}
    for child in children.values():
        assert child.attributes["serverless.timeout"] is True
        assert child.status.status_code == StatusCode.ERROR
        assert child.end_time <= span.end_time
    # Ended before the deadline, then flushed within what was left (by the watchdog thread,
    # right after the span the handler waited for was exported: wait for it too).
    assert span.end_time < span.start_time + 800 * 1_000_000
    waited_until = time.monotonic() + 2
    while not flushes.calls and time.monotonic() < waited_until:
        time.sleep(0.01)
    assert flushes.calls and flushes.calls[0] <= 300
    assert {"orders", "charge card", "http call"} <= set(flushes.ended_before_flush[0])
    # The cost covers the whole timeout the platform bills.
    assert span.attributes["serverless.cost.billed_duration_ms"] >= 790


def test_killed_by_timeout_is_reported_by_the_next_process(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_TIMEOUT_MARGIN_MS", "200")
    released = threading.Event()

    def hang(incoming: Any, context: Any) -> None:
        released.wait(10)

    worker = threading.Thread(target=traced_by(pipeline, hang), args=({}, LambdaContext("doomed", timeout_ms=400)))
    worker.start()
    for _ in range(200):
        if ended(pipeline):
            break
        time.sleep(0.02)
    # The platform kills the process here: the marker stays. A new process starts.
    _state.reset_for_tests()
    fresh = Pipeline()
    traced_by(fresh)({}, LambdaContext("next"))
    released.set()
    worker.join()
    span = fresh.invocation()
    assert span.attributes["serverless.previous_invocation.killed"] is True
    assert span.attributes["serverless.previous_invocation.reason"] == "timeout"
    assert span.attributes["serverless.previous_invocation.request_id"] == "doomed"


def test_killed_process_is_reported_by_the_next_one(tmp_path: Path, pipeline: Pipeline) -> None:
    # A real process dies mid-invocation (as an out-of-memory kill would: no chance to clean up).
    script = textwrap.dedent(
        """
        import os, time
        import otel_serverless
        from otel_serverless.aws_lambda import traced

        otel_serverless.configure()  # an SDK provider: the killed invocation's span has ids

        class Context:
            aws_request_id = "crashed-request"
            function_name = "orders"
            invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:orders"
            memory_limit_in_mb = "128"
            def get_remaining_time_in_millis(self):
                return 60000

        @traced
        def handler(event, context):
            os._exit(9)

        handler({}, Context())
        """
    )
    env = {
        "OTEL_SERVERLESS_STATE_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "OTEL_TRACES_EXPORTER": "none",
        "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",  # a Lambda sandbox: the memory guard watches too
    }
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, timeout=60, check=False)
    assert done.returncode == 9, done.stderr
    traced_by(pipeline)({}, LambdaContext("after"))
    span = pipeline.invocation()
    # Watched by the timeout watchdog and the memory guard, neither of which fired: a crash.
    assert span.attributes["serverless.previous_invocation.reason"] == "crash"
    assert span.attributes["serverless.previous_invocation.request_id"] == "crashed-request"
    assert "serverless.previous_invocation.killed" in [e.name for e in span.events]
    # Linked to the killed invocation's span, and a report in the killed invocation's own trace.
    (link,) = [link for link in span.links if link.attributes.get("serverless.previous_invocation.killed")]
    (report,) = [s for s in pipeline.spans() if s.name == "orders killed"]
    assert report.context.trace_id == link.context.trace_id != span.context.trace_id
    assert report.parent.span_id == link.context.span_id
    assert report.attributes["error.type"] == "crash" and report.status.status_code.name == "ERROR"
    # A clean finish leaves nothing behind: the next cold start reports nothing.
    _state.reset_for_tests()
    again = Pipeline()
    traced_by(again)({}, LambdaContext("later"))
    assert "serverless.previous_invocation.killed" not in again.invocation().attributes


@pytest.mark.parametrize(
    ("request_id", "deadline", "timed_out"),
    [
        ("plain", 1700000000123.456, False),
        ('quote"back\\slash\nline', None, True),
        ("ünïcode-☃-\U0001f600", 1e21, False),
        ("x" * 300, float("nan"), False),
        ("", float("inf"), True),
    ],
)
def test_marker_record_is_the_json_of_the_record(request_id: str, deadline: float | None, timed_out: bool) -> None:
    expected = json.dumps({"id": request_id[:128], "deadline": deadline, "timeout": timed_out}).encode()
    assert _state._record(request_id, deadline, timed_out) == expected


# -- memory and cost ----------------------------------------------------------------------


def test_memory_against_the_configured_size(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    traced_by(pipeline)({}, LambdaContext(memory="10240"))
    roomy = pipeline.invocation()
    assert roomy.attributes["serverless.memory.limit_mb"] == 10240
    assert 0 < roomy.attributes["serverless.memory.peak_mb"] < 10240
    assert roomy.attributes["serverless.memory.utilization"] == pytest.approx(
        roomy.attributes["serverless.memory.peak_mb"] / 10240, abs=1e-3
    )
    assert not roomy.events
    tight = Pipeline()
    traced_by(tight)({}, LambdaContext("tight", memory="16"))  # this test process uses more than 16 MB
    span = tight.invocation()
    assert span.attributes["serverless.memory.utilization"] > 1
    assert [e.name for e in span.events] == ["serverless.memory.near_limit"]


def test_cost_follows_the_price_table(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "provisioned-concurrency")  # no init in the bill
    monkeypatch.setenv("OTEL_SERVERLESS_PRICE_X86_64", "0.001")
    monkeypatch.setenv("OTEL_SERVERLESS_PRICE_ARM64", "0.0005")
    monkeypatch.setenv("OTEL_SERVERLESS_PRICE_REQUEST", "0.01")
    traced_by(pipeline, lambda e, c: time.sleep(0.02))({}, LambdaContext(memory="2048"))
    span = pipeline.invocation()
    attributes = span.attributes
    billed = attributes["serverless.cost.billed_duration_ms"]
    assert billed == math.ceil((span.end_time - span.start_time) / 1e6)
    assert attributes["serverless.cost.gb_seconds"] == pytest.approx(billed / 1000 * 2)
    price = Prices.from_env().per_gb_second(attributes["serverless.cost.architecture"])
    assert price in (0.001, 0.0005)
    assert attributes["serverless.cost.compute_usd"] == pytest.approx(billed / 1000 * 2 * price)
    assert attributes["serverless.cost.usd"] == pytest.approx(attributes["serverless.cost.compute_usd"] + 0.01)


def test_on_demand_cold_start_bills_the_init(pipeline: Pipeline) -> None:
    traced_by(pipeline)({}, LambdaContext())
    span = pipeline.invocation()
    duration = (span.end_time - span.start_time) / 1e6
    expected = duration + span.attributes["serverless.init.duration_ms"]
    assert abs(span.attributes["serverless.cost.billed_duration_ms"] - expected) <= 1


# -- payload capture ----------------------------------------------------------------------


def test_payload_capture_is_off_by_default(pipeline: Pipeline) -> None:
    traced_by(pipeline)({"password": "hunter2"}, LambdaContext())
    assert not [k for k in pipeline.invocation().attributes if k.startswith("serverless.payload")]


def test_payload_capture_scrubbed_and_truncated(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_CAPTURE_PAYLOAD", "true")
    monkeypatch.setenv("OTEL_SERVERLESS_CAPTURE_PAYLOAD_MAX_CHARS", "200")
    monkeypatch.setenv("OTEL_SERVERLESS_SCRUB_PATTERNS", "^pin$")
    payload = {
        "user": "ann",
        "password": "hunter2",
        "nested": {"Authorization": "Bearer abcdefghijkl", "pin": "1234", "note": "url?token=s3cr3t&x=1"},
        "padding": "x" * 1000,
    }
    original = json.loads(json.dumps(payload))
    traced_by(pipeline, lambda e, c: {"statusCode": 200, "sessionToken": "tok-123"})(payload, LambdaContext())
    assert payload == original  # scrubbing worked on a copy
    attributes = pipeline.invocation().attributes
    captured = attributes["serverless.payload.event"]
    assert len(captured) < 240 and captured.endswith("chars)")
    for secret in ("hunter2", "abcdefghijkl", "1234", "s3cr3t"):
        assert secret not in captured
    assert '"user": "ann"' in captured
    response = json.loads(attributes["serverless.payload.response"])
    assert response == {"statusCode": 200, "sessionToken": "[REDACTED]"}


# -- flush --------------------------------------------------------------------------------


class Hung(SpanProcessor):
    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.finished = threading.Event()
        self.deadlines: list[int] = []

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        self.deadlines.append(timeout_millis)
        self.entered.set()
        self.release.wait(30)
        self.finished.set()
        return True

    def on_start(self, span: Span, parent_context: Any = None) -> None:
        return None


def test_flush_never_blocks_past_its_deadline(pipeline: Pipeline) -> None:
    hung = Hung()
    pipeline.provider.add_span_processor(hung)
    try:
        assert traced_by(pipeline, lambda e, c: "answer")({}, LambdaContext(timeout_ms=400)) == "answer"
        assert hung.entered.is_set() and not hung.finished.is_set()  # we left while it still hung
        assert hung.deadlines[0] < 400  # derived from the time left
    finally:
        hung.release.set()


def test_flush_goes_to_the_configured_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    import otel_serverless
    from otel_serverless.export import _pipeline

    exporter = InMemorySpanExporter()
    telemetry = otel_serverless.configure(exporters=[exporter], set_global=False, instrument=False)
    assert telemetry is not None
    try:
        # The batch processor only exports on flush (or after its delay): spans here prove the flush.
        traced(lambda e, c: "ok", tracer_provider=telemetry.provider)(event("sqsEvent"), LambdaContext())
        (span,) = [s for s in exporter.get_finished_spans() if "faas.invocation_id" in s.attributes]
        # configure() installed every serverless processor.
        for key in ("faas.coldstart", "serverless.retry.attempt", "serverless.memory.peak_mb", "serverless.cost.usd"):
            assert key in span.attributes
    finally:
        _pipeline.reset_for_tests()
