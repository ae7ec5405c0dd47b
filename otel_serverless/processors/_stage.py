"""The shape every serverless span processor shares.

The SDK makes a span read-only as soon as ``end()`` starts, so a processor can
write in only two places, and each concern uses the one it needs:

* :meth:`ServerlessProcessor.annotate` — while the *invocation span* starts
  (facts known up front: cold start, retries). Works wherever the processor is
  added to the provider.
* :meth:`ServerlessProcessor.transform` — on every finished span, returning a copy
  with more (or fewer) attributes, handed to the processor given as ``then``
  (facts known only at the end: memory, cost; and scrubbing, which must also see
  what other instrumentations set). Such a stage sits *in front of* the exporting
  processor: ``ScrubbingProcessor(then=BatchSpanProcessor(exporter))``.

Every hook runs under the guard: a failing processor reports once and the span
goes on unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from opentelemetry.context import Context
from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import Link
from opentelemetry.util.types import AttributeValue

from otel_serverless._guard import guard
from otel_serverless.aws_lambda import _invocation
from otel_serverless.aws_lambda._invocation import Invocation


class ServerlessProcessor(SpanProcessor):
    """One concern; optionally a stage in front of *then*."""

    #: Name in OTEL_SERVERLESS_PROCESSORS.
    name: ClassVar[str] = ""

    def __init__(self, then: SpanProcessor | None = None) -> None:
        self.then = then

    # -- hooks for subclasses --------------------------------------------------
    def annotate(self, span: Span, invocation: Invocation) -> None:
        """Write facts on the invocation span as it starts."""

    def transform(self, span: ReadableSpan) -> ReadableSpan:
        """The finished span as it should be exported (the same object if unchanged)."""
        return span

    # -- SpanProcessor -----------------------------------------------------------
    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        invocation = _invocation.starting()
        if invocation is not None:
            with guard(f"processor.{self.name}"):
                self.annotate(span, invocation)
        if self.then is not None:
            self.then.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        if self.then is None:
            return
        out = span
        with guard(f"processor.{self.name}"):
            out = self.transform(span)
        self.then.on_end(out)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True if self.then is None else self.then.force_flush(timeout_millis)

    def shutdown(self) -> None:
        if self.then is not None:
            self.then.shutdown()


def invocation_of(span: ReadableSpan) -> Invocation | None:
    """The in-flight invocation whose span this is, if it is one."""
    context = span.context
    return None if context is None else _invocation.for_span(context.span_id)


def replace(
    span: ReadableSpan,
    *,
    attributes: Mapping[str, AttributeValue] | None = None,
    events: Sequence[Event] | None = None,
    links: Sequence[Link] | None = None,
) -> ReadableSpan:
    """A copy of *span* with other attributes, events or links (everything else kept)."""
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=dict(span.attributes or {}) if attributes is None else dict(attributes),
        events=tuple(span.events) if events is None else tuple(events),
        links=tuple(span.links) if links is None else tuple(links),
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )
