"""What every AWS carrier shares: the one slot, its encoding, and safe extraction.

The *format* (W3C ``traceparent``/``tracestate``, ``baggage``, or whatever
``OTEL_PROPAGATORS`` names) belongs to the globally configured OpenTelemetry
propagator. This module only moves the propagator's fields in and out of AWS
shapes: it injects into a plain dict, packs that dict into ONE value (the
"slot", compact JSON under :data:`RESERVED_KEY`), and on the way back unpacks
the slot, adds what other tools left (upstream ``traceparent`` attributes,
Datadog's ``_datadog``) and extracts with a :class:`FieldsGetter`.

Extraction is defensive by construction: inbound values are untrusted, so
every reader checks types and sizes and answers ``None`` rather than raising;
the base context is always empty so that a failed extraction can never hand
back the *current* span as if it were the remote parent.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, NamedTuple

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter

#: Name of our one slot: the message attribute (SQS, SNS) or the JSON key
#: (EventBridge ``Detail``, Kinesis data, Step Functions input, DynamoDB item).
RESERVED_KEY: Final = "_otel"
#: Datadog's attribute (JSON of its injected headers); read, never written.
DATADOG_KEY: Final = "_datadog"
#: Longest slot value we decode; W3C caps tracestate at 512 and baggage at 8192 chars.
MAX_SLOT_CHARS: Final = 16_384
#: Most fields we accept from one slot (a hostile slot cannot make us copy thousands).
MAX_FIELDS: Final = 32

Fields = dict[str, str]

#: ``isinstance(x, MAPPING)``: boto3 and json hand us dicts, and the dict check
#: short-circuits before the ABC one, which costs ~10x more on this hot path.
MAPPING: Final = (dict, Mapping)

#: Where an injected context went (:attr:`Outcome.channel`).
CHANNEL_ATTRIBUTE: Final = "message_attribute"
CHANNEL_AWS_TRACE_HEADER: Final = "aws_trace_header"
CHANNEL_PAYLOAD: Final = "payload"
CHANNEL_CLIENT_CONTEXT: Final = "client_context"
CHANNEL_METADATA: Final = "metadata"
CHANNEL_ITEM: Final = "item"
#: Why it could not go anywhere (:attr:`Outcome.reason`).
NO_FREE_SLOT: Final = "no_free_slot"
SIZE_LIMIT: Final = "size_limit"
NO_CONTEXT: Final = "no_context"
NOT_APPLICABLE: Final = "not_applicable"


class Outcome(NamedTuple):
    """What one setter did with one message: the channel used, or why it skipped."""

    channel: str | None = None
    reason: str | None = None

    @property
    def injected(self) -> bool:
        return self.channel is not None


class FieldsGetter(Getter[Mapping[str, str]]):
    """Reads propagation fields from a dict whose keys were lower-cased on the way in.

    Propagators ask for ``traceparent`` or ``X-Amzn-Trace-Id``; AWS shapes keep
    whatever case the producer wrote, so lookups are case-insensitive.
    """

    def get(self, carrier: Mapping[str, str], key: str) -> list[str] | None:
        value = carrier.get(key.lower())
        return None if value is None else [value]

    def keys(self, carrier: Mapping[str, str]) -> list[str]:
        return list(carrier)


fields_getter: Final = FieldsGetter()

#: The outcomes carriers report most, built once (an Outcome is immutable).
INJECTED_ATTRIBUTE: Final = Outcome(CHANNEL_ATTRIBUTE)
INJECTED_PAYLOAD: Final = Outcome(CHANNEL_PAYLOAD)
INJECTED_METADATA: Final = Outcome(CHANNEL_METADATA)
INJECTED_ITEM: Final = Outcome(CHANNEL_ITEM)


def inject_fields(context: Context | None = None) -> Fields:
    """The global propagator's fields for *context* (default: the current one), on a plain dict."""
    fields: Fields = {}
    propagate.inject(fields, context=context)
    return fields


#: ``json.dumps(fields, separators=(",", ":"))``, with its encoder built once rather than per message.
_COMPACT: Final = json.JSONEncoder(separators=(",", ":"))


def encode(fields: Mapping[str, str]) -> str:
    """The slot value: compact ASCII JSON (safe in every AWS string field)."""
    return _COMPACT.encode(fields)


def decode(value: object) -> Fields:
    """The fields inside a slot value (JSON text, bytes, or an already-parsed object); {} if unusable."""
    if isinstance(value, (bytes, bytearray)):
        if len(value) > MAX_SLOT_CHARS:
            return {}
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            return {}
    if isinstance(value, str):
        value = _parse(value)
    if not isinstance(value, MAPPING):
        return {}
    return lowered(value.items())


def _parse(text: str) -> object:
    """The JSON object in a slot's text, or None."""
    if len(text) > MAX_SLOT_CHARS or not text.lstrip().startswith("{"):
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def lowered(items: Iterable[tuple[object, object]]) -> Fields:
    """String-to-string pairs with lower-cased keys, at most :data:`MAX_FIELDS`."""
    fields: Fields = {}
    for key, value in items:
        if isinstance(key, str) and isinstance(value, str) and len(value) <= MAX_SLOT_CHARS:
            fields[key.lower()] = value
            if len(fields) >= MAX_FIELDS:
                break
    return fields


def extract(fields: Mapping[str, str]) -> Context | None:
    """A context holding a valid *remote* span context from *fields*, or None."""
    if not fields:
        return None
    context = propagate.extract(fields, context=Context(), getter=fields_getter)
    return context if is_remote_parent(context) else None


def extract_slot(value: object) -> Context | None:
    """The context in one slot value (JSON text, bytes or a parsed object), or None."""
    return extract(decode(value))


def is_remote_parent(context: Context | None) -> bool:
    if context is None:
        return False
    span_context = trace.get_current_span(context).get_span_context()
    return span_context.is_valid and span_context.is_remote


# -- message attributes: SQS (both casings), SNS (Type/Value) ---------------------------


def attribute_value(attribute: object) -> str | bytes | None:
    """The value of one message attribute in any of the shapes AWS delivers.

    ``{"StringValue"}`` (ReceiveMessage), ``{"stringValue"}`` (Lambda SQS record),
    ``{"Type", "Value"}`` (SNS; binary values are base64 there), and the binary
    variants.
    """
    if not isinstance(attribute, MAPPING):
        return None
    for name in ("StringValue", "stringValue"):
        text = attribute.get(name)
        if isinstance(text, str):
            return text
    value = attribute.get("Value")
    if isinstance(value, str):
        return _unbase64(value) if attribute.get("Type") == "Binary" else value
    for name in ("BinaryValue", "binaryValue"):
        binary = attribute.get(name)
        if isinstance(binary, (bytes, bytearray)):
            return bytes(binary)
        if isinstance(binary, str):
            return _unbase64(binary)
    return None


def _unbase64(text: str) -> bytes | None:
    if len(text) > MAX_SLOT_CHARS * 2:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def fields_from_attributes(attributes: object) -> Fields:
    """Every propagation field found in message attributes, ours winning.

    Read-only compatibility: one attribute per field as upstream
    opentelemetry-instrumentation-botocore writes (``traceparent`` …), and
    Datadog's ``_datadog`` JSON; our slot overrides both.
    """
    if not isinstance(attributes, MAPPING) or not attributes:
        return {}
    fields: Fields = {}
    for name in _propagator_fields():
        value = attribute_value(_get_ci(attributes, name))
        if isinstance(value, str) and len(value) <= MAX_SLOT_CHARS:
            fields[name.lower()] = value
    if DATADOG_KEY in attributes:
        fields.update(decode(attribute_value(attributes[DATADOG_KEY])))
    if RESERVED_KEY in attributes:
        fields.update(decode(attribute_value(attributes[RESERVED_KEY])))
    return fields


_fields_of: tuple[object, tuple[str, ...], tuple[str, ...]] = (None, (), ())


def _propagator_fields() -> tuple[str, ...]:
    """The global propagator's field names (``fields`` builds a new set on every read)."""
    return _fields_cache()[1]


def _field_spellings() -> tuple[str, ...]:
    """Every spelling :func:`_get_ci` looks up for :func:`_propagator_fields`: as given and lower-cased."""
    return _fields_cache()[2]


def _fields_cache() -> tuple[object, tuple[str, ...], tuple[str, ...]]:
    global _fields_of
    propagator = propagate.get_global_textmap()
    if _fields_of[0] is not propagator:
        names = tuple(propagator.fields)
        spellings = tuple(dict.fromkeys([*names, *(name.lower() for name in names)]))
        _fields_of = (propagator, names, spellings)
    return _fields_of


def _get_ci(mapping: Mapping[Any, Any], name: str) -> object:
    found = mapping.get(name)
    if found is None and name != name.lower():
        found = mapping.get(name.lower())
    return found


def extract_attributes(attributes: object) -> Context | None:
    """Context from message attributes (any AWS shape), or None."""
    return extract_fields(fields_from_attributes(attributes))


def extract_fields(fields: Fields) -> Context | None:
    """Context from propagation fields, Datadog's own style included (``x-datadog-*``), or None."""
    found = extract(fields)
    if found is None and "x-datadog-trace-id" in fields:
        from otel_serverless.propagation import _datadog

        found = _datadog.context(fields)
    return found


def string_attribute(value: str) -> dict[str, str]:
    """A ``String`` message attribute in the shape SQS and SNS requests take."""
    return {"DataType": "String", "StringValue": value}


def attribute_size(name: str, attribute: object) -> int:
    """Bytes one request attribute counts towards the message size (name + type + value)."""
    size = text_size(name)
    if not isinstance(attribute, MAPPING):
        return size
    get = attribute.get
    size += text_size(get("DataType")) + text_size(get("StringValue")) + text_size(get("BinaryValue"))
    for values in ("StringListValues", "BinaryListValues"):
        items = get(values)
        if isinstance(items, list):
            size += sum(len(item.encode("utf-8") if isinstance(item, str) else item) for item in items)
    return size


def inject_batch(
    entries: list[Mapping[str, Any]],
    total_limit: int,
    size: Callable[[Mapping[str, Any]], int],
    inject_one: Callable[[Mapping[str, Any], int], tuple[Mapping[str, Any], Outcome]],
    not_a_mapping: str,
) -> tuple[list[Mapping[str, Any]], list[Outcome]]:
    """Every entry of a batch request through *inject_one(entry, room)*, the request kept within *total_limit*.

    *room* is how many more bytes the whole request may still grow; an entry
    that is not a mapping is passed on untouched, with *not_a_mapping* as reason.
    """
    room = total_limit - sum(size(entry) for entry in entries if isinstance(entry, MAPPING))
    new_entries: list[Mapping[str, Any]] = []
    outcomes: list[Outcome] = []
    for entry in entries:
        if not isinstance(entry, MAPPING):
            new_entries.append(entry)
            outcomes.append(Outcome(reason=not_a_mapping))
            continue
        new_entry, outcome = inject_one(entry, max(room, 0))
        room -= size(new_entry) - size(entry)
        new_entries.append(new_entry)
        outcomes.append(outcome)
    return new_entries, outcomes


def attributes_size(attributes: object) -> int:
    """:func:`attribute_size` summed over a mapping of request attributes (0 if not a mapping)."""
    if not attributes or not isinstance(attributes, MAPPING):
        return 0
    size = 0
    for name, attribute in attributes.items():
        if type(attribute) is dict and len(attribute) == 2 and type(name) is str:
            # The usual attribute, {"DataType": "String", "StringValue": "..."} in ASCII, without a call.
            data_type, value = attribute.get("DataType"), attribute.get("StringValue")
            if (
                type(data_type) is str
                and type(value) is str
                and name.isascii()
                and value.isascii()
                and data_type.isascii()
            ):
                size += len(name) + len(data_type) + len(value)
                continue
        size += attribute_size(name if type(name) is str else str(name), attribute)
    return size


def with_slot_attribute(
    entry: Mapping[str, Any], attributes: Mapping[str, Any], fields: Mapping[str, str], size: int, limit: int
) -> Mapping[str, Any] | None:
    """A copy of *entry* (SQS/SNS, *size* bytes) with our slot in its ``MessageAttributes``; None past *limit*.

    A slot already there (a forwarded message) is replaced, not added.
    """
    text = encode(fields)  # ASCII: its attribute's size is plain lengths
    base = size - (attribute_size(RESERVED_KEY, attributes[RESERVED_KEY]) if RESERVED_KEY in attributes else 0)
    if base + _SLOT_ATTRIBUTE_OVERHEAD + len(text) > limit:
        return None
    # dict() and one assignment: half the cost of a {**mapping, key: value} display, on every message.
    new_attributes = dict(attributes)
    new_attributes[RESERVED_KEY] = {"DataType": "String", "StringValue": text}
    new_entry = dict(entry)
    new_entry["MessageAttributes"] = new_attributes
    return new_entry


_SLOT_ATTRIBUTE_OVERHEAD: Final = len(RESERVED_KEY) + len("String")


def text_size(value: object) -> int:
    """UTF-8 size of a str (or length of bytes); 0 for anything else."""
    if isinstance(value, str):
        return len(value) if value.isascii() else len(value.encode("utf-8"))
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    return 0
