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
import json.scanner
import re
from typing import Any, Final

from opentelemetry.context import Context

from otel_serverless.propagation._carrier import (
    DATADOG_KEY,
    MAPPING,
    RESERVED_KEY,
    SIZE_LIMIT,
    Fields,
    decode,
    encode,
    extract,
    extract_fields,
    extract_slot,
)

#: Why a payload was left alone (recorded on the producer span, never raised).
NOT_JSON_OBJECT: Final = "not_json_object"
TOO_LARGE: Final = SIZE_LIMIT

_KEY_TEXT: Final = json.dumps(RESERVED_KEY)
_JSON_SPACE: Final = " \t\n\r"
_JSON_SPACE_BYTES: Final = _JSON_SPACE.encode()
_scan_value: Final = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # stub names the wrong type
_KEY_BYTES: Final = _KEY_TEXT.encode()
_DATADOG_TEXT: Final = json.dumps(DATADOG_KEY)
_DATADOG_BYTES: Final = _DATADOG_TEXT.encode()
_CLOSING_BRACE: Final = ord("}")
#: The reserved member as embed() splices it in, before its encoded fields: alone, or after others.
_FIRST_MEMBER: Final = _KEY_TEXT + ":"
_LATER_MEMBER: Final = "," + _FIRST_MEMBER
#: Where :func:`embed` leaves the slot of a lone traceparent: the last member of the top-level object.
_TAIL: Final = re.compile(r'[{,]"_otel":\{"traceparent":"(00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2})"\}\}[ \t\r\n]*')
_TAIL_BYTES: Final = re.compile(_TAIL.pattern.encode("ascii"))
#: The length of the tail embed() writes for a lone version-00 traceparent.
_BARE_TAIL_CHARS: Final = len(',"_otel":{"traceparent":"00-' + "0" * 32 + "-" + "0" * 16 + '-00"}}')
#: The longest tail _TAIL can match, plus the trailing whitespace we look at.
TAIL_CHARS: Final = 110


def embed(document: str | bytes | bytearray, fields: Fields, limit: int) -> tuple[str | bytes | None, str | None]:
    """*document* with ``{RESERVED_KEY: fields}`` added, in the same type, or (None, reason).

    *limit* is the most UTF-8 bytes the new document may take.
    """
    raw = bytes(document) if isinstance(document, bytearray) else document
    if len(raw) > limit:
        return None, TOO_LARGE
    parsed = parse_object(raw)  # the whole document must be one JSON object: never splice into anything else
    if parsed is None:
        return None, NOT_JSON_OBJECT
    new: str | bytes
    if RESERVED_KEY in parsed:
        parsed[RESERVED_KEY] = fields
        text = json.dumps(parsed, separators=(",", ":"), ensure_ascii=False)
        new = text.encode("utf-8") if isinstance(raw, bytes) else text
    else:
        member = (_LATER_MEMBER if parsed else _FIRST_MEMBER) + encode(fields)
        # Most documents end with their closing brace: then there is no need to search for it.
        if isinstance(raw, bytes):
            if raw[-1] == _CLOSING_BRACE:
                new = raw[:-1] + member.encode("ascii") + b"}"  # encode() is ASCII
            else:
                end = raw.rindex(b"}")
                new = raw[:end] + member.encode("ascii") + raw[end:]
            return (new, None) if len(new) <= limit else (None, TOO_LARGE)
        if raw[-1] == "}":
            new = raw[:-1] + member + "}"
        else:
            end = raw.rindex("}")
            new = raw[:end] + member + raw[end:]
    size = len(new) if isinstance(new, bytes) or new.isascii() else len(new.encode("utf-8"))
    if size > limit:
        return None, TOO_LARGE
    return new, None


def parse_object(document: str | bytes) -> dict[str, Any] | None:
    """The JSON object *document* is, whole (UTF-8 if bytes), or None for anything else.

    What ``json.loads`` accepts, restricted to objects and UTF-8, through the
    decoder's C scanner: for the small payloads of most messages, json.loads'
    own checks cost several times the parse.
    """
    if isinstance(document, bytes):
        if document[:1] != b"{" and document.lstrip(_JSON_SPACE_BYTES)[:1] != b"{":
            return None  # not even the start of an object: binary data is never decoded
        try:
            document = document.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if document[:1] == "{":
        start = 0
    else:
        start = len(document) - len(document.lstrip(_JSON_SPACE))
        if document[start : start + 1] != "{":
            return None
    try:
        parsed, end = _scan_value(document, start)
    except (StopIteration, ValueError, RecursionError):
        return None
    if end != len(document) and document[end:].strip(_JSON_SPACE):
        return None  # something after the object (JSON lines, trailing garbage)
    return parsed  # type: ignore[no-any-return]  # the scanner reads an object at "{": a dict


def mentions_key(document: str | bytes) -> bool:
    """Whether the reserved key's name (or Datadog's) occurs in *document* at all (else there is
    nothing to parse for)."""
    if isinstance(document, bytes):
        return _KEY_BYTES in document or _DATADOG_BYTES in document
    return _KEY_TEXT in document or _DATADOG_TEXT in document


def from_tail(document: str | bytes) -> Context | None:
    """The context :func:`embed` spliced into *document* for a lone traceparent, read from its end; else None.

    None means "not that shape" and the caller parses the document. When the
    text ends with ``,"_otel":{"traceparent":"…"}}`` (no escapes, no nesting),
    that member belongs to the top-level object of any valid JSON document: the
    final brace closes the top level, and a member holding no backslash cannot
    sit inside a string. So a large payload is not parsed just to find its
    context. (A document that is not valid JSON may give a context here; it
    could have carried any context anyway.)
    """
    if isinstance(document, bytes):  # matched as bytes: the pattern is ASCII, no decoding needed
        # The tail exactly as embed() writes it, with nothing after it: no search needed
        # (nothing in it can hold another key, so its key is the last one, as rfind would find).
        found = _TAIL_BYTES.fullmatch(document, len(document) - _BARE_TAIL_CHARS)
        if found is None:
            marker = document.rfind(_KEY_BYTES)
            if marker <= 0 or len(document) - marker > TAIL_CHARS:
                return None
            found = _TAIL_BYTES.fullmatch(document, marker - 1)
        return None if found is None else extract({"traceparent": found.group(1).decode("ascii")})
    marker = document.rfind(_KEY_TEXT)
    if marker <= 0 or len(document) - marker > TAIL_CHARS:
        return None
    match = _TAIL.fullmatch(document, marker - 1)
    return None if match is None else extract({"traceparent": match.group(1)})


def extract_document(document: str | bytes) -> Context | None:
    """The context in *document* (a JSON object as text or UTF-8): read from its tail, else parsed."""
    found = from_tail(document)
    if found is None and mentions_key(document):
        found = extract_from(parse_object(document))
    return found


def extract_from(obj: object) -> Context | None:
    """The context in an already-parsed JSON object's slot, or None.

    Read-only compatibility: where no slot of ours is, Datadog's ``_datadog`` object, which
    dd-trace writes into the same payloads (EventBridge detail, Kinesis data, Step Functions
    input), in W3C or in Datadog's own style.
    """
    if not isinstance(obj, MAPPING):
        return None
    found = extract_slot(obj.get(RESERVED_KEY))
    if found is None and DATADOG_KEY in obj:
        found = extract_fields(decode(obj.get(DATADOG_KEY)))
    return found
