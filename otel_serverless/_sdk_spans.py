"""Fast reads of the SDK's own finished spans, each with the public path as its fallback.

Every finished span is read twice on its way out (scrubbing, then the encoder), and
the SDK's read-only properties cost more than the reads behind them:
``span.attributes`` wraps the SDK's ``BoundedAttributes`` in a read-only view whose
``items()`` goes through Python per key, ``span.events``/``span.links`` copy a
locked list into a tuple on every read, and each ``dropped_*`` property makes an
ABC ``isinstance`` check. For the SDK's own span classes the values behind those
properties are read directly; any other span type, or an SDK that stores them
differently, takes the public properties (``tests/test_sdk_spans.py`` checks that
both agree).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, NamedTuple

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import Event, ReadableSpan, Span
from opentelemetry.sdk.util import BoundedList
from opentelemetry.trace import Link
from opentelemetry.util.types import AttributeValue

SDK_SPANS: Final = frozenset({ReadableSpan, Span})


class Contents(NamedTuple):
    """What a finished span carries besides its identity and times."""

    attributes: Mapping[str, AttributeValue]
    dropped_attributes: int
    events: Sequence[Event]
    dropped_events: int
    links: Sequence[Link]
    dropped_links: int


_NOTHING: Final = ()


def contents(span: ReadableSpan) -> Contents:
    """*span*'s attributes, events and links with their dropped counts (read-only)."""
    if type(span) in SDK_SPANS:
        try:
            attributes: Any = span._attributes
            events: Any = span._events
            links: Any = span._links
        except AttributeError:  # an SDK that stores them otherwise
            return _public_contents(span)
        kinds = (type(attributes), type(events), type(links))
        if kinds == _BOUNDED:  # as the SDK's own Span.end() hands them on
            return Contents(
                attributes.copy(),
                attributes.dropped,
                events if events else _NOTHING,
                events.dropped,
                links if links else _NOTHING,
                links.dropped,
            )
        if kinds == _PLAIN:  # built with plain containers (ReadableSpan(...)): nothing was dropped
            return Contents(attributes, 0, events, 0, links, 0)
    return _public_contents(span)


_BOUNDED: Final = (BoundedAttributes, BoundedList, BoundedList)
_PLAIN: Final = (dict, tuple, tuple)


def _public_contents(span: ReadableSpan) -> Contents:
    return Contents(
        span.attributes or {},
        span.dropped_attributes,
        span.events,
        span.dropped_events,
        span.links,
        span.dropped_links,
    )


def own_attributes(span: ReadableSpan) -> dict[str, AttributeValue]:
    """A plain dict copy of *span*'s attributes, the caller's to change."""
    if type(span) in SDK_SPANS:
        raw = getattr(span, "_attributes", None)
        if raw is None:
            return {}
        kind = type(raw)
        if kind is dict:
            return raw.copy()  # type: ignore[no-any-return]  # a dict's copy is a dict
        if kind is BoundedAttributes:
            found = raw.copy()
            if type(found) is dict:
                return found
    attributes = span.attributes
    return dict(attributes) if attributes else {}


def has_extras(span: ReadableSpan) -> tuple[bool, bool]:
    """Whether *span* may have events, links: False only when known to be empty."""
    if type(span) not in SDK_SPANS:
        return True, True
    try:
        return len(span._events) > 0, len(span._links) > 0
    except (AttributeError, TypeError):  # an SDK that stores them otherwise: the public path
        return True, True


def plain_copy(attributes: Mapping[str, AttributeValue]) -> dict[str, AttributeValue]:
    """A plain dict copy of a mapping of attributes (C-level when it has a dict ``copy()``)."""
    try:
        found = attributes.copy()  # type: ignore[attr-defined]
    except AttributeError:
        return dict(attributes)
    return found if type(found) is dict else dict(attributes)
