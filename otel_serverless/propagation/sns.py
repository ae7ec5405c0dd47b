"""SNS: the producer setter and a getter for every shape a consumer receives.

Producer: one message attribute, :data:`RESERVED_KEY`, for every propagation
field (SNS allows ten; there is no system-attribute fallback). A String
attribute that no filter policy names leaves attribute-based filtering exactly
as it was: policies only look at the attributes they name.

Consumer shapes: SNS→Lambda (``Sns.MessageAttributes`` ``{Type, Value}``), the
JSON envelope SNS→SQS delivers without raw delivery (same attribute shape), and
raw delivery, where the attributes arrive as SQS message attributes (read by
:mod:`otel_serverless.propagation.sqs`). A ``Message`` that is an EventBridge
event (EventBridge→SNS) is looked into as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from opentelemetry.context import Context

from otel_serverless.propagation import _payload
from otel_serverless.propagation._carrier import (
    INJECTED_ATTRIBUTE,
    MAPPING,
    NO_CONTEXT,
    NO_FREE_SLOT,
    RESERVED_KEY,
    SIZE_LIMIT,
    Fields,
    Outcome,
    attributes_size,
    extract_attributes,
    inject_batch,
    text_size,
    with_slot_attribute,
)

__all__ = [
    "MAX_ATTRIBUTES",
    "MAX_MESSAGE_BYTES",
    "RESERVED_KEY",
    "extract_envelope",
    "extract_lambda_record",
    "inject_entries",
    "inject_entry",
    "message_size",
]

MAX_ATTRIBUTES: Final = 10
#: SNS message limit: message, subject and attributes together (256 KiB).
MAX_MESSAGE_BYTES: Final = 262_144
_MAX_NESTED_BYTES: Final = 1_048_576


# -- consumer -------------------------------------------------------------------------


def extract_lambda_record(record: Mapping[str, Any]) -> Context | None:
    """Context from a Lambda SNS event record (``record["Sns"]``), or None."""
    if not isinstance(record, MAPPING):
        return None
    sns = record.get("Sns")
    return extract_envelope(sns) if isinstance(sns, MAPPING) else None


def extract_envelope(envelope: Mapping[str, Any]) -> Context | None:
    """Context from a parsed SNS notification (the JSON body SNS→SQS delivers), or None."""
    if not isinstance(envelope, MAPPING):
        return None
    found = extract_attributes(envelope.get("MessageAttributes"))
    if found is None:
        found = _from_message(envelope.get("Message"))
    return found


def _from_message(message: object) -> Context | None:
    if not isinstance(message, str) or len(message) > _MAX_NESTED_BYTES or '"detail-type"' not in message:
        return None
    parsed = _payload.parse_object(message)
    if parsed is None:
        return None
    from otel_serverless.propagation import eventbridge

    return eventbridge.extract_event(parsed)


# -- producer -------------------------------------------------------------------------


def message_size(entry: Mapping[str, Any]) -> int:
    """Bytes SNS counts for one message: message, subject and every attribute."""
    get = entry.get
    return text_size(get("Message")) + text_size(get("Subject")) + attributes_size(get("MessageAttributes"))


def inject_entry(
    entry: Mapping[str, Any], fields: Fields, *, room: int | None = None
) -> tuple[Mapping[str, Any], Outcome]:
    """A copy of *entry* (Publish params or a PublishBatch entry) carrying the context."""
    if not fields:
        return entry, Outcome(reason=NO_CONTEXT)
    attributes = entry.get("MessageAttributes") or {}
    if not isinstance(attributes, MAPPING) or (RESERVED_KEY not in attributes and len(attributes) >= MAX_ATTRIBUTES):
        return entry, Outcome(reason=NO_FREE_SLOT)
    size = message_size(entry)
    limit = MAX_MESSAGE_BYTES if room is None else min(MAX_MESSAGE_BYTES, size + room)
    new = with_slot_attribute(entry, attributes, fields, size, limit)
    return (entry, Outcome(reason=SIZE_LIMIT)) if new is None else (new, INJECTED_ATTRIBUTE)


def inject_entries(entries: list[Mapping[str, Any]], fields: Fields) -> tuple[list[Mapping[str, Any]], list[Outcome]]:
    """PublishBatch: every entry, keeping the whole batch within the message limit too."""
    return inject_batch(
        entries,
        MAX_MESSAGE_BYTES,
        message_size,
        lambda entry, room: inject_entry(entry, fields, room=room),
        NO_FREE_SLOT,
    )
