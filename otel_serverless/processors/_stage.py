"""What a serverless processor knows about an invocation, and when it writes it on the span.

The SDK makes a span read-only as soon as ``end()`` starts, so the facts about an
invocation go on its span while it is live, each at the moment it is known:

* :meth:`ServerlessProcessor.start_attributes` — known up front (cold start, retries):
  written in one call as the invocation span starts (``on_start``, inside ``start_span``).
* :meth:`ServerlessProcessor.started` — what must begin with the invocation (the memory
  high-water mark) or what attributes cannot say (an event).
* :meth:`ServerlessProcessor.ending` — known only at the end (peak memory, cost): set on
  the live span just before the wrapper ends it (``_invocation.end_span``), so every
  processor and exporter on the provider sees them, under the span's limits like any
  attribute.

Nothing is copied: scrubbing (``scrubbing.py``) is the one stage that rewrites finished
spans. Every hook runs under the guard: a failing processor reports once and adds nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from opentelemetry.context import Context
from opentelemetry.sdk.trace import Span, SpanProcessor
from opentelemetry.trace import Span as ApiSpan
from opentelemetry.util.types import AttributeValue

from otel_serverless import _invocation
from otel_serverless._guard import report
from otel_serverless._invocation import Invocation


class ServerlessProcessor(SpanProcessor):
    """One concern: facts about the invocation span (see the module's docstring)."""

    #: Name in OTEL_SERVERLESS_PROCESSORS.
    name: ClassVar[str] = ""

    def start_attributes(self, invocation: Invocation) -> Mapping[str, AttributeValue] | None:
        """Attributes the invocation span starts with (None: none)."""
        return None

    def started(self, span: Span, invocation: Invocation) -> None:
        """The invocation span has started (events, marks to take at the start)."""

    def ending(self, span: ApiSpan, invocation: Invocation, end_time: int) -> Mapping[str, AttributeValue] | None:
        """Attributes to set on the live invocation span that ends at *end_time* (None: none);
        events may be added to *span* here too."""
        return None

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        invocation = _invocation.starting()
        if invocation is not None:
            _started(span, invocation, (self,))


class Installed(SpanProcessor):
    """The enabled serverless processors as one processor on a provider (what ``install`` adds).

    The provider calls each of its processors for every span: one for all of them is
    one call per span, and their start attributes go into the span in one write.
    """

    def __init__(self, processors: Iterable[ServerlessProcessor]) -> None:
        self.processors = tuple(processors)

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        invocation = _invocation.starting()
        if invocation is not None:
            _started(span, invocation, self.processors)


def _started(span: Span, invocation: Invocation, processors: tuple[ServerlessProcessor, ...]) -> None:
    _invocation.write_facts(span, processors, lambda processor: processor.start_attributes(invocation))
    for processor in processors:
        try:
            processor.started(span, invocation)
        except Exception as error:
            report(f"processor.{processor.name}", error)
    invocation.finishers.extend(processors)
