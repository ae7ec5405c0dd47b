"""Kafka records (Amazon MSK, self-managed Apache Kafka) as Lambda delivers them.

Producers carry ``traceparent`` (and the other fields ``OTEL_PROPAGATORS`` names) in the
record headers, as the OpenTelemetry Kafka instrumentations write them. Lambda delivers
``headers`` as a list of one-entry objects whose value is the header's bytes as a list
of numbers (``[{"traceparent": [48, 48, 45, ...]}]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from opentelemetry.context import Context

from otel_serverless.propagation import _carrier

#: Header entries looked at per record (a record with more still gets a context from the first ones).
MAX_HEADERS: Final = 64


def header_text(value: object) -> str | None:
    """A header value as text: a string, or a list of byte values that is UTF-8; else None."""
    if isinstance(value, str):
        return value
    if not isinstance(value, list) or len(value) > _carrier.MAX_SLOT_CHARS:
        return None
    if not all(type(byte) is int and 0 <= byte <= 255 for byte in value):
        return None
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        return None


def headers(record: object) -> _carrier.Fields:
    """The record's headers as text, names lower-cased (bounded; undecodable values left out)."""
    listed = record.get("headers") if isinstance(record, Mapping) else None
    if not isinstance(listed, list):
        return {}
    pairs: list[tuple[object, object]] = []
    for entry in listed[:MAX_HEADERS]:
        if isinstance(entry, Mapping):
            pairs.extend((name, header_text(value)) for name, value in list(entry.items())[:MAX_HEADERS])
    return _carrier.lowered(pairs)


def extract_record(record: Mapping[str, Any]) -> Context | None:
    """The producer's context from one Lambda Kafka record, or None."""
    return _carrier.extract(headers(record))
