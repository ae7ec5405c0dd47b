"""Where each source's record keeps its message, for payload capture on the record's span."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_serverless._capture import decoded


def message_of(record: object) -> Any:  # noqa: PLR0911  # one return per source shape
    """The message one record carries, decoded (JSON parsed, base64 JSON decoded), or the record."""
    if not isinstance(record, Mapping):
        return record
    if "body" in record:  # SQS, and what Pipes delivers from it
        return decoded(record["body"])
    for key, field, encoded in (("Sns", "Message", False), ("kinesis", "data", True)):
        inner = record.get(key)
        if isinstance(inner, Mapping):
            return decoded(inner.get(field), base64_text=encoded)
    stream = record.get("dynamodb")
    if isinstance(stream, Mapping):
        return stream.get("NewImage") or stream.get("OldImage") or stream.get("Keys")
    if "topic" in record and "value" in record:  # Kafka
        return decoded(record["value"], base64_text=True)
    if "data" in record:  # Amazon MQ, Firehose
        return decoded(record["data"], base64_text=True)
    return record
