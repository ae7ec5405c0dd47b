"""Payload capture (off by default): the event and the response, scrubbed, then truncated.

Scrubbing comes first and works on the structure, so truncation can never cut a
secret's name off its value; the scrubbing processor scrubs the text again at
export.
"""

from __future__ import annotations

import json
from typing import Any

from otel_serverless import _settings
from otel_serverless import environment_variables as env
from otel_serverless._guard import preview
from otel_serverless.processors.scrubbing import Scrubber


def enabled() -> bool:
    return _settings.per_process(
        env.OTEL_SERVERLESS_CAPTURE_PAYLOAD, lambda: _settings.read_bool(env.OTEL_SERVERLESS_CAPTURE_PAYLOAD, False)
    )


def render(value: Any, scrubber: Scrubber | None = None) -> str:
    """*value* as scrubbed JSON, truncated to OTEL_SERVERLESS_CAPTURE_PAYLOAD_MAX_CHARS."""
    limit = _settings.read_int(env.OTEL_SERVERLESS_CAPTURE_PAYLOAD_MAX_CHARS, 4096, minimum=16, maximum=262_144)
    cleaned = (scrubber or Scrubber.from_env()).structure(value)
    try:
        text = json.dumps(cleaned, ensure_ascii=False, default=lambda item: preview(item, 256))
    except (TypeError, ValueError, RecursionError):
        text = preview(cleaned, limit)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…(+{len(text) - limit} chars)"
