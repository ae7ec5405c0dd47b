"""Finished spans rewritten on their way out: the one place a span is copied (scrubbing).

The SDK makes a span read-only once it ends, so a stage that must change what
others recorded (the scrubbing stage, in front of the exporting processor) hands on
a rewritten span. It keeps every field of the original, the dropped counts too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import Link, Status
from opentelemetry.util.types import AttributeValue

from otel_serverless._sdk_spans import own_attributes


def replace(
    span: ReadableSpan,
    *,
    attributes: Mapping[str, AttributeValue] | None = None,
    events: Sequence[Event] | None = None,
    links: Sequence[Link] | None = None,
    status: Status | None = None,
) -> ReadableSpan:
    """A copy of *span* with other attributes, events, links or status (everything else kept)."""
    return RewrittenSpan(
        span,
        own_attributes(span) if attributes is None else dict(attributes),
        tuple(span.events) if events is None else tuple(events),
        tuple(span.links) if links is None else tuple(links),
        span.status if status is None else status,
    )


class RewrittenSpan(ReadableSpan):
    """A finished span with other attributes, events, links or status, and every other field its own.

    Not rebuilt through ``ReadableSpan(...)``: that constructor knows only the fields of the
    SDK version it comes from and takes plain containers, so a span over its limits lost
    its dropped counts, and a field a later SDK adds would be lost too. Here every field of
    the original is carried over as it is (its instance dictionary), only the four that
    change are replaced, and the dropped counts stay the original's.
    ``tests/processors/test_rewritten_span.py`` compares each public field with the
    original's, over and under the limits, on the installed SDK.
    """

    def __init__(
        self,
        original: ReadableSpan,
        attributes: dict[str, AttributeValue],
        events: tuple[Event, ...],
        links: tuple[Link, ...],
        status: Status,
    ) -> None:
        # No super().__init__(): it would reset what vars() carries over.
        self.__dict__.update(vars(original))
        self._dropped_counts = (original.dropped_attributes, original.dropped_events, original.dropped_links)
        self._attributes = attributes
        self._events = events
        self._links = links
        self._status = status

    @property
    def dropped_attributes(self) -> int:
        return self._dropped_counts[0]

    @property
    def dropped_events(self) -> int:
        return self._dropped_counts[1]

    @property
    def dropped_links(self) -> int:
        return self._dropped_counts[2]
