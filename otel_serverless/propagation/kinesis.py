"""Kinesis Data Streams: no attribute channel, so the record's JSON data, or nothing.

Producer: the fields go under :data:`RESERVED_KEY` only when ``Data`` is a JSON
object and the record (data + partition key) stays within the record limit; any
other data is never touched. Either way the producer span records stream,
partition key, shard and sequence number, and :func:`correlation_key`, so a
consumer links deterministically even to records that could not carry context.

Consumer shapes: the Lambda Kinesis record (base64 ``kinesis.data``) and a
GetRecords record (``Data`` bytes).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import sys
from collections.abc import Callable, Mapping
from typing import Any, Final

from opentelemetry.context import Context

from otel_serverless.propagation import _payload
from otel_serverless.propagation._carrier import (
    INJECTED_PAYLOAD,
    MAPPING,
    NO_CONTEXT,
    RESERVED_KEY,
    Fields,
    Outcome,
    inject_batch,
    text_size,
)

__all__ = [
    "DEFAULT_MAX_RECORD_BYTES",
    "MAX_REQUEST_BYTES",
    "RESERVED_KEY",
    "correlation_key",
    "correlation_key_for_record",
    "extract_data",
    "extract_record",
    "inject_record",
    "inject_records",
    "record_size",
]

#: Default record limit: data blob (before base64) plus partition key, 1 MiB.
DEFAULT_MAX_RECORD_BYTES: Final = 1_048_576
#: Base64 characters (whole quads) holding at least the last TAIL_CHARS + 8 bytes of a record's data.
_TAIL_BASE64_CHARS: Final = 4 * ((_payload.TAIL_CHARS + 8) // 3 + 1)
#: Longest ``kinesis.data`` read: 10 MiB records, base64.
_MAX_DATA_CHARS: Final = DEFAULT_MAX_RECORD_BYTES * 14
#: PutRecords: all records of one request together, 5 MiB.
MAX_REQUEST_BYTES: Final = 5_242_880


# -- consumer -------------------------------------------------------------------------


def extract_record(record: Mapping[str, Any]) -> Context | None:
    """Context from a Lambda Kinesis event record (``kinesis.data``, base64 JSON), or None."""
    if not isinstance(record, MAPPING):
        return None
    kinesis = record.get("kinesis")
    if not isinstance(kinesis, MAPPING):
        return None
    data = kinesis.get("data")
    if not isinstance(data, str) or len(data) > _MAX_DATA_CHARS:
        return None
    size = len(data)
    try:
        if size > _TAIL_BASE64_CHARS and not size % 4:
            # Where embed() puts the context, the last bytes: decode just those first (records reach 10 MiB).
            # Whole quads at the end: if they are not valid base64, the whole data is not either.
            found = _payload.from_tail(_a2b(data[-_TAIL_BASE64_CHARS:]))
            if found is not None:
                return found
        # The usual small record, decoded whole; a direct call (a partial's is ~2% of the G4 round trip).
        raw = binascii.a2b_base64(data, strict_mode=True) if _STRICT_BASE64 else _a2b(data)  # type: ignore[call-arg,unused-ignore]  # 3.11+ only
    except (binascii.Error, ValueError):
        return None
    return _payload.extract_document(raw)


#: Strict mode: the alphabet check b64decode(validate=True) makes with a regex, done in C.
_STRICT_BASE64: Final = sys.version_info >= (3, 11)
if sys.version_info >= (3, 11):
    _a2b: Final[Callable[[str], bytes]] = functools.partial(binascii.a2b_base64, strict_mode=True)
else:  # pragma: no cover - Python 3.10 has no strict mode
    _a2b = functools.partial(base64.b64decode, validate=True)


def extract_data(data: object) -> Context | None:
    """Context from a record's data (``GetRecords`` ``Data``: bytes, or text), or None."""
    if isinstance(data, bytearray):
        data = bytes(data)
    if not isinstance(data, (str, bytes)):
        return None
    return _payload.extract_document(data)


def correlation_key(stream: str, shard_id: str, sequence_number: str) -> str:
    """The key both the producer span and a consumer compute for one record."""
    return _digest("kinesis", stream, shard_id, sequence_number)


def correlation_key_for_record(record: Mapping[str, Any]) -> str | None:
    """:func:`correlation_key` from a Lambda Kinesis record (``eventSourceARN``, ``eventID``)."""
    if not isinstance(record, MAPPING):
        return None
    arn, event_id = record.get("eventSourceARN"), record.get("eventID")
    if not isinstance(arn, str) or not isinstance(event_id, str) or ":stream/" not in arn or ":" not in event_id:
        return None
    shard_id, _, sequence_number = event_id.partition(":")
    return correlation_key(stream_name(arn), shard_id, sequence_number)


def stream_name(stream_name_or_arn: str) -> str:
    """The stream name from a name or a stream ARN (``…:stream/NAME``)."""
    return stream_name_or_arn.rsplit(":stream/", 1)[-1]


def _digest(*parts: str) -> str:
    # Hashed: bounded length, and key values never reach the trace backend in clear.
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


# -- producer -------------------------------------------------------------------------


def record_size(entry: Mapping[str, Any]) -> int:
    """Bytes Kinesis counts for one record: data blob plus partition key."""
    return text_size(entry.get("Data")) + text_size(entry.get("PartitionKey"))


def inject_record(
    entry: Mapping[str, Any], fields: Fields, *, max_bytes: int = DEFAULT_MAX_RECORD_BYTES, room: int | None = None
) -> tuple[Mapping[str, Any], Outcome]:
    """A copy of one record (PutRecord params or a PutRecords entry) with the context in its data."""
    if not fields:
        return entry, Outcome(reason=NO_CONTEXT)
    data = entry.get("Data")
    if not isinstance(data, (str, bytes, bytearray)):
        return entry, Outcome(reason=_payload.NOT_JSON_OBJECT)
    key_size = text_size(entry.get("PartitionKey"))
    limit = max_bytes if room is None else min(max_bytes, text_size(data) + key_size + room)
    new_data, reason = _payload.embed(data, fields, limit - key_size)
    if new_data is None:
        return entry, Outcome(reason=reason)
    new_entry = dict(entry)  # cheaper than a {**entry, ...} display
    new_entry["Data"] = new_data
    return new_entry, INJECTED_PAYLOAD


def inject_records(
    entries: list[Mapping[str, Any]], fields: Fields, *, max_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> tuple[list[Mapping[str, Any]], list[Outcome]]:
    """PutRecords: every record, keeping the request within its total limit too."""
    return inject_batch(
        entries,
        max(MAX_REQUEST_BYTES, max_bytes),
        record_size,
        lambda entry, room: inject_record(entry, fields, max_bytes=max_bytes, room=room),
        _payload.NOT_JSON_OBJECT,
    )
