"""One reserved key inside a user's JSON object, for services with no attribute channel.

EventBridge ``Detail``, Kinesis record data and Step Functions input have no
side channel for metadata, so the context rides in the payload, and only when
the payload is a JSON *object*: anything else (text, arrays, binary) is left
exactly as it is. The key is spliced in before the closing brace, so every byte
the user wrote stays where it was. Only a document that already carries the key
(it passed through a traced hop before) is re-serialised, to replace the stale
context rather than stack a second one.
"""

from __future__ import annotations

import json
from typing import Final

from opentelemetry.context import Context

from otel_serverless.propagation._carrier import MAPPING, RESERVED_KEY, SIZE_LIMIT, Fields, decode, encode, extract

#: Why a payload was left alone (recorded on the producer span, never raised).
NOT_JSON_OBJECT: Final = "not_json_object"
TOO_LARGE: Final = SIZE_LIMIT

_KEY_TEXT: Final = json.dumps(RESERVED_KEY)


def embed(document: str | bytes | bytearray, fields: Fields, limit: int) -> tuple[str | bytes | None, str | None]:
    """*document* with ``{RESERVED_KEY: fields}`` added, in the same type, or (None, reason).

    *limit* is the most UTF-8 bytes the new document may take.
    """
    raw = bytes(document) if isinstance(document, bytearray) else document
    if len(raw) > limit or raw.lstrip()[:1] not in ("{", b"{"):
        return None, TOO_LARGE if len(raw) > limit else NOT_JSON_OBJECT
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):
        return None, NOT_JSON_OBJECT
    if not isinstance(parsed, dict):
        return None, NOT_JSON_OBJECT
    slot = encode(fields)
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:  # JSON in UTF-16/32 parses, but we only splice UTF-8
        return None, NOT_JSON_OBJECT
    if RESERVED_KEY in parsed:
        parsed[RESERVED_KEY] = fields
        new_text = json.dumps(parsed, separators=(",", ":"), ensure_ascii=False)
    else:
        end = text.rindex("}")
        member = f"{_KEY_TEXT}:{slot}"
        new_text = f"{text[:end]}{',' if parsed else ''}{member}{text[end:]}"
    encoded = new_text.encode("utf-8")
    if len(encoded) > limit:
        return None, TOO_LARGE
    return (encoded if isinstance(raw, bytes) else new_text), None


def fields_in(obj: object) -> Fields:
    """Our fields inside an already-parsed JSON object (the slot is an object or JSON text)."""
    if not isinstance(obj, MAPPING):
        return {}
    return decode(obj.get(RESERVED_KEY))


def extract_from(obj: object) -> Context | None:
    return extract(fields_in(obj))
