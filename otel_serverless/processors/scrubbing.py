"""The scrubbing stage: every finished span, whichever instrumentation recorded it, scrubbed.

The rules are :mod:`otel_serverless._scrub`'s (one set for every place a user's data
reaches a span or a log); this stage applies them to attributes, event and link
attributes and the status description of each span it hands on.
"""

from __future__ import annotations

from opentelemetry.context import Context
from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import Link, Status

from otel_serverless._guard import report
from otel_serverless._scrub import (
    MAX_DEPTH,
    REDACTED,
    SAFE_KEYS,
    Scrubber,
    clean_text,
    default,
    describe,
    rules,
)
from otel_serverless._sdk_spans import has_extras, own_attributes
from otel_serverless.attributes import SCRUB_FAILED
from otel_serverless.processors._rewrite import replace

__all__ = [
    "MAX_DEPTH",
    "REDACTED",
    "SAFE_KEYS",
    "Scrubber",
    "ScrubbingProcessor",
    "clean_text",
    "default",
    "describe",
    "rules",
]


class ScrubbingProcessor(SpanProcessor):
    """Hands every finished span, scrubbed, to *then* (the exporting processor it sits in front of)."""

    name = "scrub"

    def __init__(self, then: SpanProcessor | None = None, *, scrubber: Scrubber | None = None) -> None:
        self.then = then
        self.scrubber = scrubber or Scrubber.from_env()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if self.then is not None:
            self.then.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        if self.then is None:
            return
        try:
            span = self.transform(span)
        except Exception as error:
            report(f"processor.{self.name}", error)
            try:
                span = _emptied(span)
            except Exception:  # not even that: the span is not exported unscrubbed
                return
        self.then.on_end(span)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True if self.then is None else self.then.force_flush(timeout_millis)

    def shutdown(self) -> None:
        if self.then is not None:
            self.then.shutdown()

    def transform(self, span: ReadableSpan) -> ReadableSpan:
        scrubber = self.scrubber
        own = own_attributes(span)
        attributes = own if scrubber.scrub_in_place(own) else None
        may_have_events, may_have_links = has_extras(span)
        events: list[Event] | None = None
        if may_have_events:
            for index, event in enumerate(span.events):
                cleaned = scrubber.attributes(event.attributes)
                if cleaned is not None:
                    events = list(span.events) if events is None else events
                    events[index] = Event(event.name, cleaned, timestamp=event.timestamp)
        links: list[Link] | None = None
        if may_have_links:
            for index, link in enumerate(span.links):
                cleaned = scrubber.attributes(link.attributes)
                if cleaned is not None:
                    links = list(span.links) if links is None else links
                    links[index] = Link(link.context, cleaned)
        status: Status | None = None
        description = span.status.description
        if description:
            cleaned_description = scrubber.text(description)
            if cleaned_description != description:
                status = Status(span.status.status_code, cleaned_description)
        if attributes is None and events is None and links is None and status is None:
            return span
        return replace(span, attributes=attributes, events=events, links=links, status=status)


def _emptied(span: ReadableSpan) -> ReadableSpan:
    """*span* with nothing a secret could be in (what scrubbing could not clean does not go out)."""
    return replace(
        span,
        attributes={SCRUB_FAILED: True},
        events=(),
        links=(),
        status=Status(span.status.status_code),
    )
