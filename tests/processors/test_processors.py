"""The serverless span processors one by one, as a user composes them from Python."""

from __future__ import annotations

import math
from typing import Any

import pytest
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from otel_serverless import _guard
from otel_serverless.aws_lambda import _state, traced
from otel_serverless.processors import (
    ColdStartProcessor,
    CostProcessor,
    MemoryProcessor,
    RetryProcessor,
    Scrubber,
    ScrubbingProcessor,
    enabled,
    export_chain,
    install,
)
from tests.aws_lambda.conftest import LambdaContext


@pytest.fixture(autouse=True)
def _fresh(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_STATE_DIR", str(tmp_path))
    _state.reset_for_tests()


def provider_with(*processors: Any) -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    for processor in processors:
        provider.add_span_processor(processor(SimpleSpanProcessor(exporter)) if callable(processor) else processor)
    return provider, exporter


def test_cold_start_alone_on_a_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_PROCESSORS", "none")  # the wrapper installs none of its own
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(ColdStartProcessor())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    traced(lambda e, c: None, tracer_provider=provider)({}, LambdaContext())
    (span,) = [s for s in exporter.get_finished_spans() if s.name == "orders"]
    assert span.attributes["faas.coldstart"] is True
    assert "serverless.memory.peak_mb" not in span.attributes  # that processor was not added


def test_scrubbing_stage_scrubs_what_other_instrumentations_set() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(ScrubbingProcessor(then=SimpleSpanProcessor(exporter)))
    tracer = provider.get_tracer("someone-else")
    with tracer.start_as_current_span("GET", attributes={"url.full": "https://x/y?api_key=K123&page=2"}) as span:
        span.set_attribute("http.request.header.authorization", "Bearer abc.def.ghi")
        span.set_attribute("db.statement", "select * from t where password='p4ss'")
        span.set_attribute("aws.s3.key", "reports/2024.csv")
        span.set_attribute("user.tags", ("token=t0k", "plain"))
        span.add_event("login", {"session_id": "s-1", "ok": True})
    (out,) = exporter.get_finished_spans()
    assert out.attributes["url.full"] == "https://x/y?api_key=[REDACTED]&page=2"
    assert out.attributes["http.request.header.authorization"] == "[REDACTED]"
    assert "p4ss" not in out.attributes["db.statement"]
    assert out.attributes["aws.s3.key"] == "reports/2024.csv"
    assert out.attributes["user.tags"] == ("token=[REDACTED]", "plain")
    assert out.events[0].attributes == {"session_id": "[REDACTED]", "ok": True}


def test_scrubber_rules() -> None:
    scrubber = Scrubber()
    for secret in ("password", "X-Api-Key", "SecretAccessKey", "sessionToken", "key", "cookie", "Authorization"):
        assert scrubber.secret_key(secret), secret
    for plain in ("monkey", "partitionKey", "messageId", "name"):
        assert not scrubber.secret_key(plain), plain
    assert scrubber.text('{"password": "x1", "user": "ann"}') == '{"password": "[REDACTED]", "user": "ann"}'
    assert scrubber.text("Authorization: Basic dXNlcjpwYXNz") == "Authorization: [REDACTED]"


def test_scrubbing_a_clean_span_passes_it_through_unchanged() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("t").start_as_current_span("clean", attributes={"a": "b"}):
        pass
    (finished,) = exporter.get_finished_spans()
    assert ScrubbingProcessor().transform(finished) is finished  # no copy when nothing needed scrubbing


def test_the_settings_choose_the_processors(monkeypatch: pytest.MonkeyPatch) -> None:
    leaf = SimpleSpanProcessor(InMemorySpanExporter())
    assert enabled() == ("coldstart", "retries", "memory", "cost", "scrub")
    chain = export_chain(leaf)
    assert isinstance(chain, ScrubbingProcessor) and chain.then is leaf
    kinds = [type(processor) for processor in install(TracerProvider()).processors]
    assert kinds == [ColdStartProcessor, RetryProcessor, MemoryProcessor, CostProcessor]
    monkeypatch.setenv("OTEL_SERVERLESS_PROCESSORS", "coldstart,cost")
    assert enabled() == ("coldstart", "cost")
    assert export_chain(leaf) is leaf
    kinds = [type(processor) for processor in install(TracerProvider()).processors]
    assert kinds == [ColdStartProcessor, CostProcessor]
    monkeypatch.setenv("OTEL_SERVERLESS_PROCESSORS", "none")
    provider = TracerProvider()
    assert install(provider).processors == ()
    assert provider._active_span_processor._span_processors == ()  # nothing to call for every span
    monkeypatch.setenv("OTEL_SERVERLESS_PROCESSORS", "all-but-broken,scrub")
    monkeypatch.setenv("OTEL_SERVERLESS_SCRUB", "false")
    assert enabled() == ()


@pytest.mark.swallows
def test_a_failing_processor_never_loses_the_span() -> None:
    class Broken(RetryProcessor):
        def started(self, span: Any, invocation: Any) -> None:
            raise RuntimeError("started bug")

        def ending(self, span: Any, invocation: Any, end_time: int) -> Any:
            raise RuntimeError("ending bug")

    class BrokenScrubber(ScrubbingProcessor):
        def transform(self, span: Any) -> Any:
            raise RuntimeError("transform bug")

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(Broken())
    provider.add_span_processor(BrokenScrubber(then=SimpleSpanProcessor(exporter)))

    def handler(event: Any, context: Any) -> str:
        raise ValueError("password=hunter2")

    with pytest.raises(ValueError, match="hunter2"):  # the handler's own error, unchanged
        traced(handler, tracer_provider=provider)({"password": "hunter2"}, LambdaContext())
    init, invocation = exporter.get_finished_spans()
    assert (init.name, invocation.name) == ("init", "orders")
    assert {key for key, _ in _guard.swallowed} == {"processor.retries", "processor.scrub"}
    # What the scrubbing stage could not clean goes out emptied, never unscrubbed.
    assert dict(invocation.attributes or {}) == {"serverless.scrub.failed": True}
    assert (invocation.events, invocation.links) == ((), ())
    assert invocation.status.status_code == StatusCode.ERROR and not invocation.status.description
    assert invocation.end_time is not None


@pytest.mark.swallows
def test_start_attributes_are_there_as_the_span_starts_on_any_provider() -> None:
    class BrokenRetries(RetryProcessor):
        def start_attributes(self, invocation: Any) -> Any:
            raise RuntimeError("start_attributes bug")

    seen_at_start: list[dict[str, Any]] = []

    class Watcher(SpanProcessor):
        def on_start(self, span: Any, parent_context: Any = None) -> None:
            seen_at_start.append(dict(span.attributes))

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    install(provider)  # the enabled ones, as configure() and the wrapper put them
    # A user's own processors beside them: they write their facts as the span starts.
    provider.add_span_processor(BrokenRetries())
    provider.add_span_processor(ColdStartProcessor())
    provider.add_span_processor(Watcher())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    # A provider that shares those processors (as the demo's per-function providers do): the
    # wrapper's tracer is on another provider, and the facts are written all the same.
    sharing = TracerProvider(active_span_processor=provider._active_span_processor)
    handler = traced(lambda e, c: "ok", tracer_provider=sharing)
    assert handler({}, LambdaContext()) == "ok"
    assert handler({}, LambdaContext()) == "ok"
    invocation_spans = [s for s in exporter.get_finished_spans() if s.name == "orders"]
    assert [s.attributes["faas.coldstart"] for s in invocation_spans] == [True, False]
    # The installed retries processor (the same request id twice: the second is a retry).
    assert [s.attributes["serverless.retry.attempt"] for s in invocation_spans] == [1, 2]
    # A processor after them sees the facts in its own on_start.
    seen = [attributes for attributes in seen_at_start if "faas.invocation_id" in attributes]
    assert [(a["faas.coldstart"], a["serverless.retry.attempt"]) for a in seen] == [(True, 1), (False, 2)]
    assert {key for key, _ in _guard.swallowed} == {"processor.retries"}


@pytest.mark.swallows
def test_end_facts_are_the_live_span_s_own_and_a_failing_processor_adds_nothing() -> None:
    class HalfWay(MemoryProcessor):
        name = "half-way"

        def ending(self, span: Any, invocation: Any, end_time: int) -> Any:
            raise RuntimeError("ending bug")

    first, second = InMemorySpanExporter(), InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(first))  # before the serverless processors
    provider.add_span_processor(MemoryProcessor())
    provider.add_span_processor(HalfWay())
    provider.add_span_processor(CostProcessor())
    provider.add_span_processor(SimpleSpanProcessor(second))
    handler = traced(lambda e, c: None, tracer_provider=provider)
    handler({}, LambdaContext(memory="1024"))
    handler({}, LambdaContext(memory="1024", request_id="req-2"))
    for exporter in (first, second):  # every processor on the provider sees them, wherever it sits
        cold, span = [s for s in exporter.get_finished_spans() if s.name == "orders"]
        assert cold.attributes["serverless.cost.billed_duration_ms"] > 1  # the measured init is billed too
        assert span.attributes["serverless.memory.limit_mb"] == 1024
        assert span.attributes["serverless.memory.peak_mb"] > 0
        # Billed for the span's own duration: the facts were computed for the time it ended at.
        duration_ms = (span.end_time - span.start_time) / 1e6
        assert span.attributes["serverless.cost.billed_duration_ms"] == max(1, math.ceil(duration_ms))
        (init,) = [s for s in exporter.get_finished_spans() if s.name == "init"]
        assert "serverless.memory.peak_mb" not in init.attributes  # only invocation spans
    assert {key for key, _ in _guard.swallowed} == {"processor.half-way"}


def test_end_facts_stay_within_the_span_limits() -> None:
    from opentelemetry.sdk.trace import SpanLimits

    exporter = InMemorySpanExporter()
    provider = TracerProvider(span_limits=SpanLimits(max_attributes=4))
    provider.add_span_processor(CostProcessor())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    traced(lambda e, c: None, tracer_provider=provider)({}, LambdaContext(memory="1024"))
    (span,) = [s for s in exporter.get_finished_spans() if s.name == "orders"]
    assert len(span.attributes) == 4 and span.dropped_attributes > 0  # counted, as the SDK counts any attribute


def _send_secrets(provider: TracerProvider) -> None:
    """Spans with secrets in attributes, events, links and the status, ended on *provider*."""
    from opentelemetry.trace import Link, SpanContext, Status, StatusCode, TraceFlags

    tracer = provider.get_tracer("someone-else")
    linked = SpanContext(0x1F, 0x2F, is_remote=True, trace_flags=TraceFlags(1))
    for password in ("p4ss", "other"):
        with tracer.start_as_current_span(
            "GET",
            attributes={"url.full": f"https://x/y?api_key={password}&page=2", "plain": "a b=c"},
            links=[Link(linked, {"token": password, "kind": "producer"})],
        ) as span:
            span.set_attribute("http.request.header.authorization", f"Bearer {password}.def.ghi")
            span.set_attribute("db.statement", f"select * from t where password='{password}'")  # noqa: S608  # text, never run
            span.set_attribute("db.password", 1234)  # not a string: redacted all the same
            span.set_attribute("user.tags", ("token=t0k", "plain"))
            span.add_event("login", {"session_id": password, "ok": True})
            span.set_status(Status(StatusCode.ERROR, f"ValueError: password={password} for ann"))


def test_the_default_export_chain_scrubs_in_front_of_our_exporter() -> None:
    from otel_serverless.export import DeadlineBatchSpanProcessor
    from otel_serverless.export._otlp_http import OTLPSpanExporter
    from tests.otlp_receiver import otlp_receiver

    with otlp_receiver() as receiver:
        # As configure() builds it: our batch processor and exporter behind the scrubbing stage.
        exporting = DeadlineBatchSpanProcessor(OTLPSpanExporter(f"{receiver.endpoint}/v1/traces"))
        chain = export_chain(exporting)
        assert isinstance(chain, ScrubbingProcessor) and chain.then is exporting
        provider = TracerProvider()
        provider.add_span_processor(chain)
        _send_secrets(provider)
        assert provider.force_flush(5000)
        provider.shutdown()
    received = b"".join(request.SerializeToString() for request in receiver.requests)
    assert len(receiver.spans()) == 2
    for secret in (b"p4ss", b"other", b"t0k", b"1234"):
        assert secret not in received, secret
    for _, span in receiver.spans():
        values = {kv.key: kv.value for kv in span.attributes}
        assert values["url.full"].string_value.endswith("?api_key=[REDACTED]&page=2")
        assert values["plain"].string_value == "a b=c"
        assert span.status.message == "ValueError: password=[REDACTED]"
        assert span.events[0].attributes[0].value.string_value == "[REDACTED]"
        assert span.links[0].attributes[0].value.string_value == "[REDACTED]"
