"""Helpers for carrier tests: a real producer span and the fields the global propagator writes for it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import pytest
from opentelemetry import baggage, context, propagate, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.trace import Span
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

EVENTS = Path(__file__).parent.parent / "events"


def load_event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return copy.deepcopy(loaded)


@pytest.fixture
def producer() -> Iterator[Span]:
    """A real, current span with baggage, as a producer would have."""
    token = context.attach(baggage.set_baggage("tenant", "acme"))
    try:
        with trace.get_tracer("tests.propagation").start_as_current_span("producer") as span:
            yield span
    finally:
        context.detach(token)


def parent_of(ctx: context.Context | None) -> trace.SpanContext:
    assert ctx is not None, "no context was extracted"
    span_context = trace.get_current_span(ctx).get_span_context()
    assert span_context.is_valid and span_context.is_remote
    return span_context


#: The configurations the W3C fast paths handle, by their OTEL_PROPAGATORS value.
DEFAULT_PROPAGATORS: Final[dict[str, Callable[[], TextMapPropagator]]] = {
    "tracecontext": TraceContextTextMapPropagator,
    "tracecontext,baggage": lambda: CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()]),
}


@contextmanager
def global_propagator(chosen: TextMapPropagator) -> Iterator[TextMapPropagator]:
    """*chosen* as the global propagator for the block; the previous one afterwards."""
    previous = propagate.get_global_textmap()
    propagate.set_global_textmap(chosen)
    try:
        yield chosen
    finally:
        propagate.set_global_textmap(previous)
