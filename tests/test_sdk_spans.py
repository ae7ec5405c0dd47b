"""The fast reads of finished SDK spans give exactly what the public properties give."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, SpanProcessor, TracerProvider
from opentelemetry.trace import Link

from otel_serverless import _sdk_spans
from otel_serverless.processors._rewrite import replace


def _finished(limits: SpanLimits | None = None) -> list[Any]:
    """What the SDK hands a processor's on_end: spans plain, busy, and over the limits."""
    seen: list[Any] = []

    class Keep(SpanProcessor):
        def on_end(self, span: Any) -> None:
            seen.append(span)

    provider = TracerProvider(span_limits=limits or SpanLimits())
    provider.add_span_processor(Keep())
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("plain", attributes={"a": "b"}) as plain:
        pass
    with tracer.start_as_current_span("busy", links=[Link(plain.get_span_context(), {"l": 1})]) as busy:
        busy.add_event("e", {"k": "v"})
        busy.set_attributes({f"k{index}": index for index in range(5)})
    with tracer.start_as_current_span("bare"):
        pass
    return seen


class _Subclass(ReadableSpan):
    """A span type of someone else's: only its public properties may be read."""


def _public(span: ReadableSpan) -> tuple[Any, ...]:
    return (
        dict(span.attributes or {}),
        span.dropped_attributes,
        list(span.events),
        span.dropped_events,
        list(span.links),
        span.dropped_links,
    )


def _read(found: _sdk_spans.Contents) -> tuple[Any, ...]:
    return (
        dict(found.attributes),
        found.dropped_attributes,
        list(found.events),
        found.dropped_events,
        list(found.links),
        found.dropped_links,
    )


@pytest.mark.parametrize(
    "limits",
    [None, SpanLimits(max_span_attributes=2, max_events=0, max_links=0)],
    ids=["within limits", "over every limit"],
)
def test_contents_agree_with_the_public_properties(limits: SpanLimits | None) -> None:
    spans = _finished(limits)
    copies = [replace(span) for span in spans]  # plain containers, as our stages make them
    foreign = [
        _Subclass(span.name, span.context, attributes=dict(span.attributes or {}), events=span.events) for span in spans
    ]
    for span in [*spans, *copies, *foreign]:
        assert _read(_sdk_spans.contents(span)) == _public(span), span.name
    if limits is not None:
        assert [span.dropped_attributes for span in spans] == [0, 3, 0]
        assert [span.dropped_events for span in spans] == [0, 1, 0]
        assert [span.dropped_links for span in spans] == [0, 1, 0]


def test_fast_reads_apply_to_what_the_sdk_hands_on() -> None:
    spans = _finished()
    assert all(type(span) in _sdk_spans.SDK_SPANS for span in spans)
    plain, busy, bare = spans
    # The fast path ran: its attributes are a fresh dict, not the SDK's read-only view.
    assert type(_sdk_spans.contents(busy).attributes) is dict
    assert _sdk_spans.contents(bare).events == () and _sdk_spans.contents(bare).links == ()
    assert _sdk_spans.has_extras(plain) == (False, False)
    assert _sdk_spans.has_extras(busy) == (True, True)
    assert _sdk_spans.has_extras(_Subclass("x")) == (True, True)  # unknown type: the public path


def test_own_attributes_are_a_copy_the_caller_may_change() -> None:
    for span in [*_finished(), *(replace(span) for span in _finished())]:
        own = _sdk_spans.own_attributes(span)
        assert own == dict(span.attributes or {})
        own["added"] = "x"
        assert "added" not in (span.attributes or {})
    assert _sdk_spans.own_attributes(_Subclass("x", attributes={"a": 1})) == {"a": 1}
    assert _sdk_spans.own_attributes(_Subclass("x")) == {}
