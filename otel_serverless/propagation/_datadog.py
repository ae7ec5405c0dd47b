"""Read-only compatibility with Datadog's ``_datadog`` attribute.

dd-trace writes a JSON object of its injected headers. When its W3C style is
on, that object holds ``traceparent``/``tracestate`` and the global propagator
reads them like any other fields. When only Datadog's own style is there
(``x-datadog-trace-id`` decimal low 64 bits, ``_dd.p.tid`` hex high 64 bits in
``x-datadog-tags``, ``x-datadog-parent-id`` decimal), :func:`context` turns it
into a remote span context. Never written: we only read what others left.
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import trace
from opentelemetry.context import Context

_TRACE_ID = "x-datadog-trace-id"
_PARENT_ID = "x-datadog-parent-id"
_PRIORITY = "x-datadog-sampling-priority"
_TAGS = "x-datadog-tags"
_HIGH_BITS_TAG = "_dd.p.tid"
_MAX_DIGITS = 20  # 2**64 has 20 decimal digits


def context(fields: Mapping[str, str]) -> Context | None:
    """A remote span context from Datadog-style headers (lower-cased keys), or None."""
    low = _decimal(fields.get(_TRACE_ID))
    span_id = _decimal(fields.get(_PARENT_ID))
    if not low or not span_id or low >= 1 << 64 or span_id >= 1 << 64:
        return None
    trace_id = low | (_high_bits(fields.get(_TAGS)) << 64)
    priority = _decimal(fields.get(_PRIORITY), signed=True)
    flags = trace.TraceFlags(trace.TraceFlags.SAMPLED if priority is None or priority > 0 else 0)
    span_context = trace.SpanContext(trace_id, span_id, is_remote=True, trace_flags=flags)
    if not span_context.is_valid:
        return None
    return trace.set_span_in_context(trace.NonRecordingSpan(span_context), Context())


def _decimal(text: str | None, signed: bool = False) -> int | None:
    if not isinstance(text, str) or not text or len(text) > _MAX_DIGITS + 1:
        return None
    digits = text[1:] if signed and text.startswith("-") else text
    if not digits.isascii() or not digits.isdigit():
        return None
    return int(text)


def _high_bits(tags: str | None) -> int:
    if not isinstance(tags, str) or len(tags) > 512:
        return 0
    for tag in tags.split(","):
        name, _, value = tag.partition("=")
        if name.strip() == _HIGH_BITS_TAG:
            value = value.strip()
            if len(value) == 16:
                try:
                    return int(value, 16)
                except ValueError:
                    return 0
    return 0
