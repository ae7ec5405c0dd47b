"""EventBridge: context inside ``Detail`` under one reserved key, and in ``TraceHeader``.

PutEvents has no attribute channel, so the fields ride in the event's
``Detail`` JSON object under :data:`RESERVED_KEY` (spliced in, the user's bytes
untouched; a Detail that is not a JSON object is left alone). ``TraceHeader``
accepts X-Ray format only: it is set too when the user did not set it and the
X-Ray form round-trips exactly. Every entry stays within 256 KB, and so does the
request.

Consumer shapes: the event as EventBridge→Lambda delivers it (``detail``), and
the same JSON as the body of an SQS message or the ``Message`` of an SNS
notification (read through :mod:`sqs` and :mod:`sns`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from opentelemetry.context import Context

from otel_serverless.propagation import _payload
from otel_serverless.propagation._carrier import (
    CHANNEL_AWS_TRACE_HEADER,
    CHANNEL_PAYLOAD,
    INJECTED_PAYLOAD,
    MAPPING,
    NO_CONTEXT,
    RESERVED_KEY,
    SIZE_LIMIT,
    Fields,
    Outcome,
    inject_batch,
    text_size,
)

__all__ = ["MAX_ENTRY_BYTES", "RESERVED_KEY", "entry_size", "extract_event", "inject_entries", "inject_entry"]

#: PutEvents: one entry, and the whole request, must stay under 256 KB.
MAX_ENTRY_BYTES: Final = 262_144
_TIME_BYTES: Final = 14
_SIZED_FIELDS: Final = ("Source", "DetailType", "Detail", "TraceHeader")


def extract_event(event: Mapping[str, Any]) -> Context | None:
    """Context from an EventBridge event (``detail[RESERVED_KEY]``), or None."""
    if not isinstance(event, MAPPING):
        return None
    return _payload.extract_from(event.get("detail"))


def entry_size(entry: Mapping[str, Any]) -> int:
    """Bytes AWS counts for one PutEvents entry (its documented formula), plus ``TraceHeader``."""
    size = _TIME_BYTES if entry.get("Time") is not None else 0
    for name in _SIZED_FIELDS:
        value = entry.get(name)
        if value is not None:  # most entries leave some out: no call for those
            size += text_size(value)
    resources = entry.get("Resources")
    if resources and isinstance(resources, list):
        size += sum(text_size(resource) for resource in resources)
    return size


def inject_entry(
    entry: Mapping[str, Any], fields: Fields, xray_header: str | None, *, room: int | None = None
) -> tuple[Mapping[str, Any], Outcome]:
    """A copy of one PutEvents entry carrying the context, or the entry and why not."""
    if not fields and not xray_header:
        return entry, Outcome(reason=NO_CONTEXT)
    size = entry_size(entry)
    limit = MAX_ENTRY_BYTES if room is None else min(MAX_ENTRY_BYTES, size + room)
    new_entry = dict(entry)
    channel: str | None = None
    reason: str | None = None
    detail = entry.get("Detail")
    if fields and isinstance(detail, str):
        budget = limit - (size - text_size(detail))
        new_detail, reason = _payload.embed(detail, fields, budget)
        if new_detail is not None:
            new_entry["Detail"] = new_detail
            channel = CHANNEL_PAYLOAD
    elif fields:
        reason = _payload.NOT_JSON_OBJECT
    if xray_header and not entry.get("TraceHeader"):
        if entry_size(new_entry) + text_size(xray_header) <= limit:
            new_entry["TraceHeader"] = xray_header
            channel = channel or CHANNEL_AWS_TRACE_HEADER
        else:
            reason = reason or SIZE_LIMIT
    if channel is None:
        return entry, Outcome(reason=reason or NO_CONTEXT)
    return new_entry, INJECTED_PAYLOAD if channel == CHANNEL_PAYLOAD else Outcome(channel, reason)


def inject_entries(
    entries: list[Mapping[str, Any]], fields: Fields, xray_header: str | None
) -> tuple[list[Mapping[str, Any]], list[Outcome]]:
    """Every entry of a PutEvents request, keeping the request total within the limit."""
    return inject_batch(
        entries,
        MAX_ENTRY_BYTES,
        entry_size,
        lambda entry, room: inject_entry(entry, fields, xray_header, room=room),
        _payload.NOT_JSON_OBJECT,
    )
