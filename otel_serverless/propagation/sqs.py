"""SQS: the producer setter and a getter for every shape a consumer receives.

Producer: one message attribute, :data:`RESERVED_KEY`, holds every propagation
field. SQS allows ten attributes; when the user took all ten, the context falls
back to the ``AWSTraceHeader`` system attribute (X-Ray format, no user slot).
When that is taken too, or either would push the message over the size limit,
the message is sent untouched and the skip is reported to the caller.

Consumer shapes: the Lambda SQS record (``messageAttributes`` with
``stringValue``), a ReceiveMessage message (``MessageAttributes`` with
``StringValue``), ``AWSTraceHeader``, and a body that is an SNS JSON envelope
(SNS→SQS without raw delivery) or an EventBridge event (EventBridge→SQS).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from opentelemetry.context import Context

from otel_serverless.propagation import _payload, xray
from otel_serverless.propagation._carrier import (
    CHANNEL_AWS_TRACE_HEADER,
    INJECTED_ATTRIBUTE,
    MAPPING,
    NO_CONTEXT,
    NO_FREE_SLOT,
    RESERVED_KEY,
    SIZE_LIMIT,
    Fields,
    Outcome,
    attribute_size,
    attributes_size,
    extract_attributes,
    inject_batch,
    string_attribute,
    text_size,
    with_slot_attribute,
)

__all__ = [
    "DEFAULT_MAX_MESSAGE_BYTES",
    "MAX_ATTRIBUTES",
    "RESERVED_KEY",
    "extract_lambda_record",
    "extract_message",
    "inject_entries",
    "inject_entry",
    "message_size",
]

#: Message attributes SQS accepts per message.
MAX_ATTRIBUTES: Final = 10
#: The default (and, until 2025, the largest) SQS message: body + attributes, 256 KiB.
DEFAULT_MAX_MESSAGE_BYTES: Final = 262_144
#: Bodies larger than this are not parsed when looking for an SNS or EventBridge envelope.
MAX_ENVELOPE_BYTES: Final = 1_048_576


# -- consumer -------------------------------------------------------------------------


def extract_lambda_record(record: Mapping[str, Any]) -> Context | None:
    """Context from a Lambda SQS event record, or None."""
    if not isinstance(record, MAPPING):
        return None
    found = extract_attributes(record.get("messageAttributes"))
    if found is None:
        found = _fallbacks(record.get("body"), record.get("attributes"))
    return found


def extract_message(message: Mapping[str, Any]) -> Context | None:
    """Context from one message of a ReceiveMessage result, or None.

    Ask for ``MessageAttributeNames=["All"]`` (and ``MessageSystemAttributeNames=["AWSTraceHeader"]``)
    so that the attributes are there to read.
    """
    if not isinstance(message, MAPPING):
        return None
    return _extract(message.get("MessageAttributes"), message.get("Body"), message.get("Attributes"))


def _extract(attributes: object, body: object, system: object) -> Context | None:
    found = extract_attributes(attributes)
    return _fallbacks(body, system) if found is None else found


def _fallbacks(body: object, system: object) -> Context | None:
    """What a message without our slot (or upstream's attributes) may still carry: an envelope, AWSTraceHeader."""
    found = _from_body(body)
    if found is None and isinstance(system, MAPPING):
        found = xray.extract_header(system.get(xray.SQS_SYSTEM_ATTRIBUTE))
    return found


def _from_body(body: object) -> Context | None:
    # Only bodies that look like an envelope are parsed: most bodies are user data.
    if not isinstance(body, str) or len(body) > MAX_ENVELOPE_BYTES:
        return None
    is_sns = '"TopicArn"' in body
    if not is_sns and '"detail-type"' not in body:
        return None
    parsed = _payload.parse_object(body)
    if parsed is None:
        return None
    if is_sns and parsed.get("Type") == "Notification":
        from otel_serverless.propagation import sns

        return sns.extract_envelope(parsed)
    if "detail-type" in parsed:
        from otel_serverless.propagation import eventbridge

        return eventbridge.extract_event(parsed)
    return None


# -- producer -------------------------------------------------------------------------


def message_size(entry: Mapping[str, Any]) -> int:
    """Bytes SQS counts for one message: body plus every attribute's name, type and value."""
    get = entry.get
    return (
        text_size(get("MessageBody"))
        + attributes_size(get("MessageAttributes"))
        + attributes_size(get("MessageSystemAttributes"))
    )


def inject_entry(
    entry: Mapping[str, Any],
    fields: Fields,
    xray_header: str | None,
    *,
    max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    room: int | None = None,
) -> tuple[Mapping[str, Any], Outcome]:
    """A copy of *entry* carrying the context, or *entry* itself with the reason it could not.

    *room* is how many more bytes the whole request may grow (batch total).
    """
    if not fields and not xray_header:
        return entry, Outcome(reason=NO_CONTEXT)
    attributes = entry.get("MessageAttributes") or {}
    if not isinstance(attributes, MAPPING):
        return entry, Outcome(reason=NO_FREE_SLOT)
    size = message_size(entry)
    limit = max_bytes if room is None else min(max_bytes, size + room)
    reason = NO_FREE_SLOT
    if fields and (RESERVED_KEY in attributes or len(attributes) < MAX_ATTRIBUTES):
        new = with_slot_attribute(entry, attributes, fields, size, limit)
        if new is not None:
            return new, INJECTED_ATTRIBUTE
        reason = SIZE_LIMIT
    system = entry.get("MessageSystemAttributes") or {}
    if xray_header and isinstance(system, MAPPING) and xray.SQS_SYSTEM_ATTRIBUTE not in system:
        header = string_attribute(xray_header)
        if size + attribute_size(xray.SQS_SYSTEM_ATTRIBUTE, header) <= limit:
            new_system = {**system, xray.SQS_SYSTEM_ATTRIBUTE: header}
            return {**entry, "MessageSystemAttributes": new_system}, Outcome(CHANNEL_AWS_TRACE_HEADER)
        reason = SIZE_LIMIT
    return entry, Outcome(reason=reason)


def inject_entries(
    entries: list[Mapping[str, Any]],
    fields: Fields,
    xray_header: str | None,
    *,
    max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
) -> tuple[list[Mapping[str, Any]], list[Outcome]]:
    """SendMessageBatch: every entry, keeping the whole batch within *max_bytes* as well."""
    return inject_batch(
        entries,
        max_bytes,
        message_size,
        lambda entry, room: inject_entry(entry, fields, xray_header, max_bytes=max_bytes, room=room),
        NO_FREE_SLOT,
    )
