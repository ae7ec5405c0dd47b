"""A span rewritten on its way out (memory, cost, scrubbing) keeps every other field of its original.

Reproduction from the review (#18): a span over its limits went from ``dropped_attributes`` 2
to 0 and ``dropped_events`` 1 to 0 through the chain, because copies were made with the
``ReadableSpan(...)`` constructor. Here each exported span is compared field by field with the
span the SDK ended — every public property the installed SDK's ``ReadableSpan`` has, so a
field a later SDK adds is compared too — over and under the limits.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanContext, TraceFlags

from otel_serverless.aws_lambda import _state, traced
from otel_serverless.processors import export_chain, install
from otel_serverless.processors._rewrite import RewrittenSpan
from otel_serverless.processors.scrubbing import REDACTED
from tests.aws_lambda.conftest import LambdaContext, event

# instrumentation_info is deprecated but still a field: it is compared like the others.
pytestmark = pytest.mark.filterwarnings("ignore:You should use instrumentation_scope:DeprecationWarning")

#: What a rewrite may change; everything else must be the original's.
CHANGED = {"attributes", "events", "status"}
PUBLIC_FIELDS = sorted(
    name
    for name, member in inspect.getmembers(ReadableSpan)
    if not name.startswith("_") and isinstance(member, property) and name not in CHANGED
)


@pytest.fixture(autouse=True)
def _fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVERLESS_STATE_DIR", str(tmp_path))
    _state.reset_for_tests()


class Originals(SpanProcessor):
    """Keeps each span the SDK ended, before any stage rewrote it."""

    def __init__(self) -> None:
        self.spans: dict[int, ReadableSpan] = {}

    def on_end(self, span: ReadableSpan) -> None:
        assert span.context is not None
        self.spans[span.context.span_id] = span


def _link(n: int) -> Link:
    return Link(SpanContext(0x1234 + n, 0x99 + n, is_remote=True, trace_flags=TraceFlags(1)), {"n": n})


@pytest.mark.parametrize("limited", [True, False], ids=["over-the-limits", "within-the-limits"])
def test_every_exported_span_keeps_every_field_of_its_original(limited: bool) -> None:
    limits = SpanLimits(max_attributes=2, max_events=1, max_links=1) if limited else SpanLimits()
    provider = TracerProvider(span_limits=limits)
    originals = Originals()
    provider.add_span_processor(originals)
    install(provider)
    exported = InMemorySpanExporter()
    provider.add_span_processor(export_chain(SimpleSpanProcessor(exported)))  # scrubbing as a stage
    tracer = provider.get_tracer("rewrite")

    @traced(tracer_provider=provider)
    def handler(incoming: Any, context: Any) -> str:
        with tracer.start_as_current_span(
            "call", links=[_link(1), _link(2)], attributes={"password": "hunter2", "a": 1, "b": 2, "c": 3}
        ) as span:
            for i in range(3):
                span.add_event(f"e{i}", {"token": "abc.def"})
        return "ok"

    assert handler(event("sqsEvent"), LambdaContext("req-1", memory="256")) == "ok"
    spans = exported.get_finished_spans()
    rewritten = [span for span in spans if isinstance(span, RewrittenSpan)]
    assert rewritten, "the invocation span (memory, cost) and the call (scrubbing) are rewritten"
    for span in spans:
        assert span.context is not None
        original = originals.spans[span.context.span_id]
        for field in PUBLIC_FIELDS:
            assert getattr(span, field) == getattr(original, field), (span.name, field)
        for key, value in (original.attributes or {}).items():
            assert key in (span.attributes or {}), (span.name, key)
            if value != (span.attributes or {})[key]:
                assert (span.attributes or {})[key] == REDACTED, (span.name, key)
        assert [e.name for e in span.events][: len(original.events)] == [e.name for e in original.events]
    call = next(span for span in spans if span.name == "call")
    if limited:
        assert (call.dropped_attributes, call.dropped_events, call.dropped_links) == (2, 2, 1)
    else:
        assert (call.dropped_attributes, call.dropped_events, call.dropped_links) == (0, 0, 0)
    assert (call.attributes or {}).get("password", REDACTED) == REDACTED
    provider.shutdown()


def test_a_field_the_sdk_adds_later_is_carried_over() -> None:
    provider = TracerProvider()
    originals = Originals()
    provider.add_span_processor(originals)
    with provider.get_tracer("t").start_as_current_span("s"):
        pass
    [original] = originals.spans.values()
    original.__dict__["_a_future_field"] = "kept"  # what a later SDK might store on its spans
    copy = RewrittenSpan(original, {"k": "v"}, (), (), original.status)
    assert copy.__dict__["_a_future_field"] == "kept"
    assert copy.attributes == {"k": "v"}
    assert all(getattr(copy, field) == getattr(original, field) for field in PUBLIC_FIELDS)
    assert copy.to_json()  # the SDK's own methods work on it (the console exporter uses this one)
