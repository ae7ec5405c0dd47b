"""CloudWatch Logs subscriptions: ``awslogs.data`` is gzip-compressed JSON, base64-encoded.

Only the head of the document is inflated (the log group and stream come first), so a
large batch of log events costs the trigger no more than a small one.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from typing import Any, Final

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base

#: Base64 characters decoded, and bytes inflated, to read the head of the document.
HEAD_BASE64_CHARS: Final = 4096
HEAD_BYTES: Final = 4096
_FIELD: Final = re.compile(rb'"(messageType|logGroup|logStream)"\s*:\s*"([^"\\]{1,512})"')


def _head(data: str) -> bytes:
    chunk = data[: HEAD_BASE64_CHARS - HEAD_BASE64_CHARS % 4]
    try:
        compressed = base64.b64decode(chunk, validate=True)
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(compressed, HEAD_BYTES)
    except (binascii.Error, ValueError, zlib.error):
        return b""


def detect(event: Any, context: Any) -> base.Trigger | None:
    data = base.text(base.mapping(event, "awslogs"), "data", 8 * 1024 * 1024)
    if data is None:
        return None
    fields = {name.decode(): value.decode("utf-8", "replace") for name, value in _FIELD.findall(_head(data))}
    attributes: base.Attributes = {}
    base.put(attributes, attr.LOGS_GROUP, fields.get("logGroup"))
    base.put(attributes, attr.LOGS_STREAM, fields.get("logStream"))
    base.put(attributes, attr.LOGS_MESSAGE_TYPE, fields.get("messageType"))
    return base.Trigger(name="cloudwatch_logs", faas_trigger=base.PUBSUB, attributes=attributes)
