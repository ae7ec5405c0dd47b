"""A fast path for the default propagator: W3C Trace Context (and Baggage) without the getter layers.

Every AWS hop pays inject + extract, and the benchmark (G4) showed our carriers at
2-3x a plain W3C round trip, much of it in the propagator's generic machinery
(getter/setter objects, the composite loop, ``re.search`` on a pattern looked up
per call). When — and only when — the global propagator is exactly the default,
``TraceContextTextMapPropagator`` alone or a ``CompositePropagator`` of it
followed by ``W3CBaggagePropagator`` (``OTEL_PROPAGATORS=tracecontext[,baggage]``),
this module does what those classes do, step for step:

* the same ``traceparent`` regular expression (the propagator's own compiled
  pattern), the same all-zero, version ``00`` and ``ff`` rules, the same
  tracestate length rule and ``TraceState.from_header``;
* the same ``traceparent`` formatting, and ``tracestate`` from ``to_header()``;
* baggage is handed to the OTel baggage propagator itself, and only when there
  is any (in the context, or a ``baggage`` field).

Any other configuration (other propagators, subclasses, another order) returns
None and the caller uses the OTel propagator as before. The
equivalence with the OTel propagators, on valid and invalid input alike, is
tested on a corpus (tests/propagation/test_w3c_fast_path.py).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Final, cast

from opentelemetry import propagate, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.context import Context, get_current
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.trace.propagation import _SPAN_KEY
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.trace.span import _TRACECONTEXT_MAXIMUM_TRACESTATE_LENGTH, TraceState

TRACEPARENT: Final = "traceparent"
_TRACESTATE: Final = "tracestate"
_BAGGAGE: Final = "baggage"
_PATTERN: Final = TraceContextTextMapPropagator._TRACEPARENT_HEADER_FORMAT_RE
_ZERO_TRACE: Final = "0" * 32
_ZERO_SPAN: Final = "0" * 16
_INVALID: Final = trace.INVALID_SPAN_CONTEXT
_DEFAULT_TRACE_STATE: Final = trace.DEFAULT_TRACE_STATE
_new_tuple: Final = tuple.__new__

_SpanContext: Final = trace.SpanContext
_NonRecordingSpan: Final = trace.NonRecordingSpan
#: Every flags byte, built once: ``TraceFlags(n)`` is an int subclass constructed per extraction otherwise.
#: Keyed by its two lowercase hex digits, as text and as bytes (:func:`from_match` reads either).
_FLAGS_BY_HEX: Final[dict[str | bytes, trace.TraceFlags]] = {
    key: trace.TraceFlags(value)
    for value in range(256)
    for key in ("%02x" % value, b"%02x" % value)  # noqa: UP031
}
#: A version-00 traceparent exactly as :func:`inject` writes it; groups: trace id, span id, flags.
BARE_TRACEPARENT_GROUPS: Final = r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})"
_BARE_TRACEPARENT: Final = re.compile(BARE_TRACEPARENT_GROUPS)
#: A slot as :func:`_carrier.encode` writes a lone version-00 traceparent: the common case on every hop.
_BARE_SLOT: Final = re.compile(r'\{"traceparent":"' + BARE_TRACEPARENT_GROUPS + r'"\}')
# The propagator's own logger: its warning stays where users look for it.
_logger = logging.getLogger(TraceContextTextMapPropagator.__module__)


class _Shape:
    """What the global propagator was when last looked at (cached by identity)."""

    __slots__ = ("baggage", "fast", "propagator")

    def __init__(self, propagator: TextMapPropagator | None, fast: bool, baggage: W3CBaggagePropagator | None) -> None:
        self.propagator = propagator
        self.fast = fast
        self.baggage = baggage


_shape = _Shape(None, False, None)
_global_textmap: Final = propagate.get_global_textmap


def _current_shape() -> _Shape:
    global _shape
    propagator = _global_textmap()
    shape = _shape
    if shape.propagator is propagator:
        return shape
    fast, baggage = False, None
    if type(propagator) is TraceContextTextMapPropagator:
        fast = True
    elif type(propagator) is CompositePropagator:
        parts = list(getattr(propagator, "_propagators", None) or ())
        kinds = [type(part) for part in parts]
        if kinds == [TraceContextTextMapPropagator]:
            fast = True
        elif kinds == [TraceContextTextMapPropagator, W3CBaggagePropagator]:
            fast, baggage = True, parts[1]
    _shape = shape = _Shape(propagator, fast, baggage)
    return shape


#: Span classes seen so far (the SDK's and NonRecordingSpan, in practice).
_SPAN_TYPES: set[type] = set()


def _is_span(candidate: object) -> bool:
    if isinstance(candidate, trace.Span):
        _SPAN_TYPES.add(type(candidate))
        return True
    return False


def inject(context: Context | None) -> dict[str, str] | None:
    """The fields the default propagator would inject for *context*; None if it is not the default."""
    return inject_any(context) if _current_shape().fast else None


def inject_any(context: Context | None = None) -> dict[str, str]:
    """The global propagator's fields for *context* (default: the current one), whatever it is.

    :func:`inject`'s fast path when the propagator is the default, else the propagator
    itself: one function, so that the hot path (every message sent) is one call.
    """
    shape = _shape
    if shape.propagator is not _global_textmap():  # _current_shape()'s check, without its call on the hot path
        shape = _current_shape()
    fields: dict[str, str] = {}
    if not shape.fast:
        propagate.inject(fields, context=context)
        return fields
    global last_slot
    span = (context if context is not None else get_current()).get(_SPAN_KEY)
    # get_current_span()'s rule (anything but a Span is no span), with the ABC check done once per type.
    if type(span) not in _SPAN_TYPES and not _is_span(span):
        span = trace.INVALID_SPAN
    span_context = cast(trace.Span, span).get_span_context()
    if span_context != _INVALID:
        # One unpacking of the SpanContext tuple instead of four property reads, and
        # %-formatting for format_trace_id/format_span_id's hex: measurably cheaper here.
        trace_id, span_id, _, flags, trace_state, is_valid = span_context
        if is_valid:  # the ids fit 16 and 8 bytes: bytes.hex() writes them faster than %x does
            trace_hex, span_hex = trace_id.to_bytes(16, "big").hex(), span_id.to_bytes(8, "big").hex()
            slot = '{"traceparent":"00-%s-%s-%02x"}' % (trace_hex, span_hex, flags)  # noqa: UP031
        else:
            slot = '{"traceparent":"00-%032x-%016x-%02x"}' % (trace_id, span_id, flags)  # noqa: UP031
        fields[TRACEPARENT] = traceparent = slot[16:-2]
        last_slot = (traceparent, slot)  # one assignment: readers on other threads see a consistent pair
        if trace_state is not _DEFAULT_TRACE_STATE and trace_state:
            fields[_TRACESTATE] = trace_state.to_header()
    if shape.baggage is not None:
        shape.baggage.inject(fields, context=context)
    return fields


#: The last traceparent :func:`inject` wrote and the slot holding it alone. Strings are
#: immutable: a field that *is* this object (identity, not equality) has this slot.
last_slot: tuple[str, str] = ("", "")


def extract(fields: Mapping[str, str]) -> Context | None:
    """What the default propagator extracts from lower-cased *fields* into an empty context.

    None when the global propagator is not the default.
    """
    shape = _current_shape()
    if not shape.fast:
        return None
    context = _trace_context(fields)
    if shape.baggage is not None and fields.get(_BAGGAGE) is not None:
        context = shape.baggage.extract(fields, context=context)
    return context


def from_slot(text: object) -> Context | None:
    """The context in a slot holding a lone valid version-00 ``traceparent``; None for any other slot.

    For such a slot the default propagator's answer is known without building
    the fields: a remote span context, no trace state, no baggage. None means
    "not this shape" (another propagator, tracestate, baggage, other fields,
    all-zero ids, any spacing): the caller takes the general path, which also
    decides what an invalid value gives.
    """
    if type(text) is not str:
        return None
    return from_match(_BARE_SLOT.fullmatch(text))


def is_bare_traceparent(value: str) -> bool:
    """Whether *value* is a version-00 traceparent exactly as :func:`inject` writes it (JSON-safe as is)."""
    return _BARE_TRACEPARENT.fullmatch(value) is not None


def from_fields(fields: object) -> Context | None:
    """:func:`from_slot` for fields already parsed: a mapping whose one field is such a ``traceparent``."""
    if not isinstance(fields, (dict, Mapping)) or len(fields) != 1:  # dict first: the ABC check is slower
        return None
    value = fields.get(TRACEPARENT)
    return from_match(_BARE_TRACEPARENT.fullmatch(value)) if type(value) is str else None


def from_match(match: re.Match[str] | re.Match[bytes] | None) -> Context | None:
    """The context for a match of :data:`BARE_TRACEPARENT_GROUPS` (inside any pattern, text or bytes), or None as
    :func:`from_slot`."""
    if match is None:
        return None
    shape = _shape
    if shape.propagator is not _global_textmap():  # as in inject()
        shape = _current_shape()
    if not shape.fast:
        return None
    trace_id, span_id, flags = match.groups()
    # int() reads hex text and bytes alike; an all-zero id is the one that parses to 0.
    trace_id_int, span_id_int = int(trace_id, 16), int(span_id, 16)
    if not trace_id_int or not span_id_int:
        return None
    return _remote(trace_id_int, span_id_int, _FLAGS_BY_HEX[flags], None)


def _remote(trace_id: int, span_id: int, flags: trace.TraceFlags, tracestate: TraceState | None) -> Context:
    """An empty context holding the remote span context, as ``set_span_in_context(…, Context())`` builds it."""
    # SpanContext.__new__ only defaults the trace state and computes is_valid: both known
    # here (callers pass checked, non-zero ids that fit), so its tuple is built directly.
    span_context = _new_tuple(
        _SpanContext,
        (trace_id, span_id, True, flags, _DEFAULT_TRACE_STATE if tracestate is None else tracestate, True),
    )
    # One dict instead of set_span_in_context's copy of an empty Context: same key, same value.
    return Context({_SPAN_KEY: _NonRecordingSpan(span_context)})


def _trace_context(fields: Mapping[str, str]) -> Context:
    context = Context()
    header = fields.get(TRACEPARENT)
    if not header:
        return context
    match = _PATTERN.search(header)
    if not match:
        return context
    version, trace_id, span_id, flags, rest = match.groups()
    if trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
        return context
    if (version == "00" and rest) or version == "ff":
        return context
    tracestate_header = fields.get(_TRACESTATE)
    tracestate: TraceState | None
    if tracestate_header is None:
        tracestate = None
    elif len(tracestate_header) > _TRACECONTEXT_MAXIMUM_TRACESTATE_LENGTH:
        _logger.warning(
            "tracestate header exceeded the maximum length of %d characters",
            _TRACECONTEXT_MAXIMUM_TRACESTATE_LENGTH,
        )
        tracestate = None
    else:
        tracestate = TraceState.from_header([tracestate_header])
    return _remote(int(trace_id, 16), int(span_id, 16), _FLAGS_BY_HEX[flags], tracestate)  # flags: 2 lowercase hex
