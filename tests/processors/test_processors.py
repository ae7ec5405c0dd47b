"""The serverless span processors one by one, as a user composes them from Python."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

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
)
from otel_serverless.processors._stage import ServerlessProcessor
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


def _stages(chain: SpanProcessor) -> tuple[list[type], SpanProcessor]:
    """The kinds of the serverless stages of *chain*, in order, and the processor they end in."""
    kinds: list[type] = []
    while isinstance(chain, ServerlessProcessor):
        kinds.append(type(chain))
        assert chain.then is not None
        chain = chain.then
    return kinds, chain


def test_cold_start_alone_on_a_provider() -> None:
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


def test_export_chain_follows_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    leaf = SimpleSpanProcessor(InMemorySpanExporter())
    assert enabled() == ("coldstart", "retries", "memory", "cost", "scrub")
    assert _stages(export_chain(leaf)) == ([MemoryProcessor, CostProcessor, ScrubbingProcessor], leaf)
    monkeypatch.setenv("OTEL_SERVERLESS_PROCESSORS", "coldstart,cost")
    assert enabled() == ("coldstart", "cost")
    monkeypatch.setenv("OTEL_SERVERLESS_PROCESSORS", "none")
    assert export_chain(leaf) is leaf
    monkeypatch.setenv("OTEL_SERVERLESS_PROCESSORS", "all-but-broken,scrub")
    monkeypatch.setenv("OTEL_SERVERLESS_SCRUB", "false")
    assert enabled() == ()


@pytest.mark.swallows
def test_a_failing_processor_never_loses_the_span() -> None:
    class Broken(RetryProcessor):
        def annotate(self, span: Any, invocation: Any) -> None:
            raise RuntimeError("annotate bug")

        def transform(self, span: Any) -> Any:
            raise RuntimeError("transform bug")

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(Broken(then=SimpleSpanProcessor(exporter)))
    assert traced(lambda e, c: "ok", tracer_provider=provider)({}, LambdaContext()) == "ok"
    assert [s.name for s in exporter.get_finished_spans()] == ["init", "orders"]
    assert {key for key, _ in _guard.swallowed} == {"processor.retries"}


@pytest.mark.swallows
def test_start_attributes_come_in_at_the_start_wherever_the_stage_sits() -> None:
    class BrokenRetries(RetryProcessor):
        def start_attributes(self, invocation: Any) -> Any:
            raise RuntimeError("start_attributes bug")

    seen_at_start: list[dict[str, Any]] = []

    class Watcher(SpanProcessor):
        def on_start(self, span: Any, parent_context: Any = None) -> None:
            seen_at_start.append(dict(span.attributes))

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(Watcher())
    # A user's own chain, beside the one the wrapper installs: it writes its facts as the span starts.
    provider.add_span_processor(BrokenRetries(then=ColdStartProcessor(then=SimpleSpanProcessor(exporter))))
    handler = traced(lambda e, c: "ok", tracer_provider=provider)
    assert handler({}, LambdaContext()) == "ok"
    assert handler({}, LambdaContext()) == "ok"
    invocation_spans = [s for s in exporter.get_finished_spans() if s.name == "orders"]
    assert [s.attributes["faas.coldstart"] for s in invocation_spans] == [True, False]
    # The wrapper's chain (the same request id twice: the second is a retry).
    assert [s.attributes["serverless.retry.attempt"] for s in invocation_spans] == [1, 2]
    # The wrapper's chain gave its start attributes to start_span itself: the first processor sees them.
    assert [attributes["faas.coldstart"] for attributes in seen_at_start if "faas.invocation_id" in attributes] == [
        True,
        False,
    ]
    assert {key for key, _ in _guard.swallowed} == {"processor.retries"}


@pytest.mark.swallows
def test_adding_stages_share_one_copy_and_a_failing_one_adds_nothing() -> None:
    class HalfWay(MemoryProcessor):
        name = "half-way"

        def contribute(self, span: Any, invocation: Any) -> Any:
            raise RuntimeError("contribute bug")

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    leaf = SimpleSpanProcessor(exporter)
    provider.add_span_processor(MemoryProcessor(then=HalfWay(then=CostProcessor(then=ScrubbingProcessor(then=leaf)))))
    traced(lambda e, c: None, tracer_provider=provider)({}, LambdaContext(memory="1024"))
    (span,) = [s for s in exporter.get_finished_spans() if s.name == "orders"]
    assert span.attributes["serverless.memory.limit_mb"] == 1024
    assert span.attributes["serverless.cost.billed_duration_ms"] >= 1
    assert {key for key, _ in _guard.swallowed} == {"processor.half-way"}
    (init,) = [s for s in exporter.get_finished_spans() if s.name == "init"]
    assert "serverless.memory.peak_mb" not in init.attributes  # only the invocation span


def test_adding_stage_transform_on_its_own() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    seen: list[Any] = []

    class Keep(SpanProcessor):
        def on_end(self, span: Any) -> None:
            seen.append((MemoryProcessor().transform(span), CostProcessor().transform(span), span))

    provider.add_span_processor(Keep())
    traced(lambda e, c: None, tracer_provider=provider)({}, LambdaContext(memory="2048"))
    memory, cost, original = seen[-1]
    assert memory.attributes["serverless.memory.limit_mb"] == 2048 and memory is not original
    assert "serverless.cost.usd" in cost.attributes and "serverless.memory.peak_mb" not in cost.attributes
    assert "serverless.cost.usd" not in original.attributes  # the finished span itself is never changed


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
        # As configure() builds it: our batch processor and exporter behind the export-time stages.
        exporting = DeadlineBatchSpanProcessor(OTLPSpanExporter(f"{receiver.endpoint}/v1/traces"))
        chain = export_chain(exporting)
        assert _stages(chain) == ([MemoryProcessor, CostProcessor, ScrubbingProcessor], exporting)
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
