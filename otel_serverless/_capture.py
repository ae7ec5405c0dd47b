"""Payload capture (off by default): what a function received and answered, what a producer
sent and what each record carried, scrubbed first, then truncated.

Scrubbing comes first and works on the structure, so truncation can never cut a
secret's name off its value; the scrubbing at export scrubs the text again. Messages
are decoded before they are scrubbed (JSON text parsed, base64 JSON decoded), so a
secret inside a message body is found by its key like any other.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any, Final

from otel_serverless import _settings
from otel_serverless import environment_variables as env
from otel_serverless._guard import preview

if TYPE_CHECKING:
    from otel_serverless._scrub import Scrubber

#: Longest text decoded to find a structure in it (longer messages are captured as text).
MAX_DECODED_CHARS: Final = 262_144


def enabled() -> bool:
    return _settings.per_process(
        env.OTEL_SERVERLESS_CAPTURE_PAYLOAD, lambda: _settings.read_bool(env.OTEL_SERVERLESS_CAPTURE_PAYLOAD, False)
    )


def render(value: Any, scrubber: Scrubber | None = None) -> str:
    """*value* as scrubbed JSON, truncated to OTEL_SERVERLESS_CAPTURE_PAYLOAD_MAX_CHARS."""
    from otel_serverless._scrub import rules  # only when capture is on

    limit = _settings.read_int(env.OTEL_SERVERLESS_CAPTURE_PAYLOAD_MAX_CHARS, 4096, minimum=16, maximum=262_144)
    cleaned = (scrubber or rules()).structure(value)
    try:
        text = json.dumps(cleaned, ensure_ascii=False, default=lambda item: preview(item, 256))
    except (TypeError, ValueError, RecursionError):
        text = preview(cleaned, limit)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…(+{len(text) - limit} chars)"


def decoded(value: Any, *, base64_text: bool = False, depth: int = 3) -> Any:  # noqa: PLR0911  # one return per shape
    """A message as a structure where it holds one: JSON text parsed (base64 first, with
    *base64_text*), and JSON text inside it parsed too, *depth* levels deep (an SNS
    envelope in an SQS body, an EventBridge detail); anything else as it is."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value[:MAX_DECODED_CHARS]).decode("utf-8", "replace")
    if isinstance(value, dict):
        return {key: decoded(item, depth=depth - 1) for key, item in value.items()} if depth > 0 else value
    if isinstance(value, list):
        return [decoded(item, depth=depth - 1) for item in value] if depth > 0 else value
    if not isinstance(value, str) or len(value) > MAX_DECODED_CHARS:
        return value
    if base64_text:
        try:
            value = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return value
    if value.lstrip()[:1] not in ("{", "["):
        return value
    try:
        parsed = json.loads(value)
    except (ValueError, RecursionError):
        return value
    return decoded(parsed, depth=depth - 1) if depth > 0 else parsed
