"""OTLP protobuf encoding of finished spans, written straight to the wire format.

The SDK's encoder builds a tree of protobuf message objects and then serializes
it: that needs the protobuf runtime and the generated OTLP modules at import
(tens of milliseconds and megabytes on a cold start) and allocates a message
object per span, attribute and value. The wire format of the few OTLP trace
messages is small and fixed, so this module writes the bytes directly; the G7
benchmark (``python -m benchmarks --only G7``) compares it with the SDK encoder,
and ``tests/export/test_encode.py`` decodes its output with the generated OTLP
classes and compares it field by field with the SDK encoder's message.

Output is what the SDK encoder produces (same grouping of spans by resource and
scope, same flags, same handling of attribute values), with one addition: links
carry their ``trace_state``, which the OTLP ``Span.Link`` message has and the
SDK encoder leaves out.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from otel_serverless._guard import preview, warn_once
from otel_serverless._sdk_spans import contents

if TYPE_CHECKING:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    from opentelemetry.trace import Link, SpanContext, Status

__all__ = ["encode_spans"]

_DOUBLE = struct.Struct("<d").pack
_FIXED64 = struct.Struct("<Q").pack
_FIXED32 = struct.Struct("<I").pack
_SMALL = tuple(bytes((value,)) for value in range(128))
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_UINT64 = 1 << 64

# Field tags: (field number << 3) | wire type, pre-encoded. Wire types: 0 varint,
# 1 fixed64, 2 length-delimited, 5 fixed32.
_LEN = 2
# Span
_SPAN_TRACE_ID = b"\x0a\x10"  # field 1, always 16 bytes
_SPAN_SPAN_ID = b"\x12\x08"  # field 2, always 8 bytes
_SPAN_TRACE_STATE = b"\x1a"
_SPAN_PARENT_ID = b"\x22\x08"  # field 4, always 8 bytes
_SPAN_NAME = b"\x2a"
_SPAN_KIND = (b"\x30\x01", b"\x30\x02", b"\x30\x03", b"\x30\x04", b"\x30\x05")  # SDK SpanKind value + 1
_SPAN_START = b"\x39"
_SPAN_END = b"\x41"
_SPAN_ATTRIBUTE = b"\x4a"
_SPAN_DROPPED_ATTRIBUTES = b"\x50"
_SPAN_EVENT = b"\x5a"
_SPAN_DROPPED_EVENTS = b"\x60"
_SPAN_LINK = b"\x6a"
_SPAN_DROPPED_LINKS = b"\x70"
_SPAN_STATUS = b"\x7a"
_SPAN_FLAGS = b"\x85\x01"  # field 16, fixed32
# Span.Event
_EVENT_TIME = b"\x09"
_EVENT_NAME = b"\x12"
_EVENT_ATTRIBUTE = b"\x1a"
_EVENT_DROPPED = b"\x20"
# Span.Link
_LINK_TRACE_ID = b"\x0a\x10"
_LINK_SPAN_ID = b"\x12\x08"
_LINK_TRACE_STATE = b"\x1a"
_LINK_ATTRIBUTE = b"\x22"
_LINK_DROPPED = b"\x28"
_LINK_FLAGS = b"\x35"
# Status
_STATUS_MESSAGE = b"\x12"
_STATUS_CODE = b"\x18"
# KeyValue / AnyValue / ArrayValue / KeyValueList
_KV_KEY = b"\x0a"
_KV_VALUE = b"\x12"
_ANY_STRING = b"\x0a"
_ANY_TRUE = b"\x10\x01"
_ANY_FALSE = b"\x10\x00"
_ANY_INT = b"\x18"
_ANY_DOUBLE = b"\x21"
_ANY_ARRAY = b"\x2a"
_ANY_KVLIST = b"\x32"
_ANY_BYTES = b"\x3a"
_REPEATED_VALUE = b"\x0a"  # ArrayValue.values and KeyValueList.values are both field 1
# InstrumentationScope
_SCOPE_NAME = b"\x0a"
_SCOPE_VERSION = b"\x12"
_SCOPE_ATTRIBUTE = b"\x1a"
# Resource
_RESOURCE_ATTRIBUTE = b"\x0a"
# ScopeSpans / ResourceSpans / ExportTraceServiceRequest
_SCOPE_SPANS_SCOPE = b"\x0a"
_SCOPE_SPANS_SPAN = b"\x12"
_SCOPE_SPANS_SCHEMA = b"\x1a"
_RESOURCE_SPANS_RESOURCE = b"\x0a"
_RESOURCE_SPANS_SCOPE_SPANS = b"\x12"
_RESOURCE_SPANS_SCHEMA = b"\x1a"
_REQUEST_RESOURCE_SPANS = b"\x0a"

# SpanFlags: the context's is-remote bit is known (0x100); the parent is remote (0x200).
_FLAGS_LOCAL = _FIXED32(0x100)
_FLAGS_REMOTE = _FIXED32(0x300)

# Attribute keys repeat in every span: their encoded form is kept, up to a bound.
_KEY_CACHE_LIMIT = 4096
_keys: dict[str, bytes] = {}


class _Unencodable(ValueError):
    """An attribute value OTLP cannot carry; the attribute is skipped, as the SDK does."""


def _varint(value: int) -> bytes:
    if value < 128:
        return _SMALL[value]
    out = bytearray()
    while value > 127:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field: tag, length, payload."""
    size = len(payload)
    return tag + (_SMALL[size] if size < 128 else _varint(size)) + payload


def _text(tag: bytes, text: str) -> bytes:
    return _field(tag, text.encode("utf-8", "replace"))


def _key(key: str) -> bytes:
    encoded = _keys.get(key)
    if encoded is None:
        encoded = _text(_KV_KEY, key)
        if len(_keys) >= _KEY_CACHE_LIMIT:
            _keys.clear()
        _keys[key] = encoded
    return encoded


def _any_value(value: Any) -> bytes:
    """The AnyValue message for *value* (the payload, without its own tag)."""
    # Checked in the SDK encoder's order: bool before int (bool is an int), str and
    # bytes before the generic Sequence they also are.
    if value is None:
        return b""
    kind = type(value)
    if kind is str:
        return _text(_ANY_STRING, value)
    if kind is bool:
        return _ANY_TRUE if value else _ANY_FALSE
    if kind is int:
        return _ANY_INT + _int64(value)
    if kind is float:
        return _ANY_DOUBLE + _DOUBLE(value)
    return _any_value_slow(value)


def _any_value_slow(value: Any) -> bytes:
    # Subclasses of the scalar types (an IntEnum, a str subclass) and containers.
    if isinstance(value, bool):
        return _ANY_TRUE if value else _ANY_FALSE
    if isinstance(value, str):
        return _text(_ANY_STRING, value)
    if isinstance(value, int):
        return _ANY_INT + _int64(value)
    if isinstance(value, float):
        return _ANY_DOUBLE + _DOUBLE(value)
    return _container(value)


def _container(value: Any) -> bytes:
    if isinstance(value, bytes):
        return _field(_ANY_BYTES, value)
    if isinstance(value, (list, tuple, Sequence)):  # list and tuple first: the usual values take no ABC check
        return _field(_ANY_ARRAY, b"".join([_field(_REPEATED_VALUE, _any_value(item)) for item in value]))
    if isinstance(value, Mapping):
        pairs = [_field(_REPEATED_VALUE, _key(str(k)) + _field(_KV_VALUE, _any_value(v))) for k, v in value.items()]
        return _field(_ANY_KVLIST, b"".join(pairs))
    raise _Unencodable(f"unsupported type {type(value).__name__}")


def _int64(value: int) -> bytes:
    if value >= 0:
        if value > _INT64_MAX:
            raise _Unencodable("integer out of int64 range")
        return _SMALL[value] if value < 128 else _varint(value)
    if value < _INT64_MIN:
        raise _Unencodable("integer out of int64 range")
    # Negative int64 values are sent as their 64-bit two's complement (ten bytes).
    return _varint(value + _UINT64)


def _attributes(tag: bytes, attributes: Mapping[str, Any] | None) -> list[bytes]:
    """The KeyValue fields of *attributes*, each under *tag*."""
    if not attributes:
        return []
    encoded = []
    for key, value in attributes.items():
        if type(value) is str:  # the usual value, written here rather than through _any_value and _text
            data = value.encode("utf-8", "replace")
            size = len(data)
            any_value = _ANY_STRING + (_SMALL[size] if size < 128 else _varint(size)) + data
        else:
            try:
                any_value = _any_value(value)
            except _Unencodable as error:
                warn_once(
                    f"export:encode:{type(value).__name__}",
                    f"otel-serverless: attribute {preview(key)} was not exported: {error}",
                )
                continue
        size = len(any_value)
        payload = _key(key) + _KV_VALUE + (_SMALL[size] if size < 128 else _varint(size)) + any_value
        size = len(payload)
        encoded.append(tag + (_SMALL[size] if size < 128 else _varint(size)) + payload)
    return encoded


def _trace_state(context: SpanContext) -> str:
    state = context.trace_state
    return ",".join([f"{key}={value}" for key, value in state.items()]) if state else ""


def _event(event: Event) -> bytes:
    parts = [_EVENT_TIME, _FIXED64(event.timestamp)] if event.timestamp else []
    if event.name:
        parts.append(_text(_EVENT_NAME, event.name))
    parts += _attributes(_EVENT_ATTRIBUTE, event.attributes)
    if dropped := event.dropped_attributes:
        parts += (_EVENT_DROPPED, _varint(dropped))
    return _field(_SPAN_EVENT, b"".join(parts))


def _link(link: Link) -> bytes:
    linked = link.context
    parts = [_LINK_TRACE_ID, linked.trace_id.to_bytes(16, "big"), _LINK_SPAN_ID, linked.span_id.to_bytes(8, "big")]
    state = _trace_state(linked)
    if state:
        parts.append(_text(_LINK_TRACE_STATE, state))
    parts += _attributes(_LINK_ATTRIBUTE, link.attributes)
    if dropped := link.dropped_attributes:
        parts += (_LINK_DROPPED, _varint(dropped))
    parts += (_LINK_FLAGS, _FLAGS_REMOTE if linked.is_remote else _FLAGS_LOCAL)
    return _field(_SPAN_LINK, b"".join(parts))


def _status(status: Status) -> bytes:
    # The SDK encoder always sets a status, even an unset one (an empty message).
    parts = []
    if description := status.description:
        parts.append(_text(_STATUS_MESSAGE, description))
    if code := status.status_code._value_:
        parts += (_STATUS_CODE, _varint(code))
    return _field(_SPAN_STATUS, b"".join(parts))


def _span(span: ReadableSpan) -> bytes:
    context = span.context
    assert context is not None  # an exported span always has one
    parts = [_SPAN_TRACE_ID, context.trace_id.to_bytes(16, "big"), _SPAN_SPAN_ID, context.span_id.to_bytes(8, "big")]
    state = _trace_state(context)
    if state:
        parts.append(_text(_SPAN_TRACE_STATE, state))
    parent = span.parent
    if parent is not None:
        parts += (_SPAN_PARENT_ID, parent.span_id.to_bytes(8, "big"))
    if span.name:
        parts.append(_text(_SPAN_NAME, span.name))
    parts += (
        _SPAN_KIND[span.kind._value_],  # _value_: the member's value without the `value` descriptor's call
        _SPAN_START,
        _FIXED64(span.start_time or 0),
        _SPAN_END,
        _FIXED64(span.end_time or 0),
    )
    found = contents(span)
    parts += _attributes(_SPAN_ATTRIBUTE, found.attributes)
    if dropped := found.dropped_attributes:
        parts += (_SPAN_DROPPED_ATTRIBUTES, _varint(dropped))
    if found.events:
        parts += [_event(event) for event in found.events]
    if dropped := found.dropped_events:
        parts += (_SPAN_DROPPED_EVENTS, _varint(dropped))
    if found.links:
        parts += [_link(link) for link in found.links]
    if dropped := found.dropped_links:
        parts += (_SPAN_DROPPED_LINKS, _varint(dropped))
    parts += (_status(span.status), _SPAN_FLAGS, _FLAGS_REMOTE if parent and parent.is_remote else _FLAGS_LOCAL)
    return b"".join(parts)


# A process has one resource and a few scopes, all immutable: each is encoded once.
# Keyed by identity (their __hash__ is slow); the object is kept so its id stays its own.
_ENCODED_LIMIT = 64
_encoded: dict[int, tuple[object, bytes]] = {}


def _once(value: object, encode: Callable[[Any], bytes]) -> bytes:
    known = _encoded.get(id(value))
    if known is not None and known[0] is value:
        return known[1]
    encoded = encode(value)
    if len(_encoded) >= _ENCODED_LIMIT:
        _encoded.clear()
    _encoded[id(value)] = (value, encoded)
    return encoded


def _scope(scope: InstrumentationScope | None) -> bytes:
    if scope is None:
        return b""
    return _once(scope, _encode_scope)


def _encode_scope(scope: InstrumentationScope) -> bytes:
    parts = []
    if scope.name:
        parts.append(_text(_SCOPE_NAME, scope.name))
    if scope.version:
        parts.append(_text(_SCOPE_VERSION, scope.version))
    parts += _attributes(_SCOPE_ATTRIBUTE, scope.attributes)
    return b"".join(parts)


def _resource(resource: Resource) -> bytes:
    return _once(resource, _encode_resource)


def _encode_resource(resource: Resource) -> bytes:
    return b"".join(_attributes(_RESOURCE_ATTRIBUTE, resource.attributes))


def encode_spans(spans: Sequence[ReadableSpan]) -> bytes:
    """An ``ExportTraceServiceRequest`` for *spans*, serialized.

    Spans are grouped by resource, then by instrumentation scope, in order of
    first appearance, as the SDK encoder does. An attribute value that OTLP
    cannot carry (an integer beyond int64, an unknown type) is left out with a
    warning; the rest of the span is sent.
    """
    # Grouped by identity first: Resource.__hash__ serializes all its attributes to
    # JSON, too slow to pay per span. Equal resources are merged afterwards.
    by_identity: dict[int, tuple[Resource, dict[InstrumentationScope | None, list[bytes]]]] = {}
    for span in spans:
        resource = span.resource
        group = by_identity.get(id(resource))
        if group is None:
            group = by_identity[id(resource)] = (resource, {})
        group[1].setdefault(span.instrumentation_scope or None, []).append(_span(span))

    merged: list[tuple[Resource, dict[InstrumentationScope | None, list[bytes]]]] = []
    for resource, scopes in by_identity.values():
        for known, known_scopes in merged:
            if known == resource:
                for scope, encoded in scopes.items():
                    known_scopes.setdefault(scope, []).extend(encoded)
                break
        else:
            merged.append((resource, scopes))

    request = []
    for resource, scopes in merged:
        resource_parts = [_field(_RESOURCE_SPANS_RESOURCE, _resource(resource))]
        for scope, encoded_spans in scopes.items():
            scope_parts = [_field(_SCOPE_SPANS_SCOPE, _scope(scope))]
            scope_parts += [_field(_SCOPE_SPANS_SPAN, encoded) for encoded in encoded_spans]
            if scope is not None and scope.schema_url:
                scope_parts.append(_text(_SCOPE_SPANS_SCHEMA, scope.schema_url))
            resource_parts.append(_field(_RESOURCE_SPANS_SCOPE_SPANS, b"".join(scope_parts)))
        if resource.schema_url:
            resource_parts.append(_text(_RESOURCE_SPANS_SCHEMA, resource.schema_url))
        request.append(_field(_REQUEST_RESOURCE_SPANS, b"".join(resource_parts)))
    return b"".join(request)
