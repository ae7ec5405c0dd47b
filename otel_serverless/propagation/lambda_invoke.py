"""Lambda Invoke: the context rides in ``ClientContext.custom``, never in the ``Payload``.

``ClientContext`` is base64 JSON (``{"custom": {...}, "client": ..., "env": ...}``)
of at most 3,583 bytes. The propagation fields are merged into ``custom`` as
plain string entries (``traceparent`` …): ``custom`` is a string map in every
Lambda runtime, so any OpenTelemetry getter reads it as is. A ClientContext the
user passed is kept, with their keys; if it is not base64 JSON we leave it
alone rather than guess.

Consumer: ``context.client_context`` (an object with ``.custom``, or a dict).
Note that Lambda hands ClientContext to the function for synchronous
(``RequestResponse``) invocations; what an asynchronous invocation delivers is up
to Lambda, so the async case is best effort.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Final

from opentelemetry.context import Context

from otel_serverless.propagation._carrier import (
    CHANNEL_CLIENT_CONTEXT,
    DATADOG_KEY,
    MAPPING,
    NO_CONTEXT,
    NOT_APPLICABLE,
    RESERVED_KEY,
    SIZE_LIMIT,
    Fields,
    Outcome,
    decode,
    encode,
    extract,
    lowered,
)

__all__ = ["MAX_CLIENT_CONTEXT_BYTES", "extract_client_context", "inject_client_context"]

#: Largest ``ClientContext`` Invoke accepts: 3,583 bytes of base64.
MAX_CLIENT_CONTEXT_BYTES: Final = 3_583
INJECTED_CLIENT_CONTEXT: Final = Outcome(CHANNEL_CLIENT_CONTEXT)


def extract_client_context(client_context: Any) -> Context | None:
    """Context from a Lambda ``context.client_context`` (object with ``.custom``, or a dict), or None."""
    if client_context is None:
        return None
    custom = (
        client_context.get("custom") if isinstance(client_context, MAPPING) else getattr(client_context, "custom", None)
    )
    if not isinstance(custom, MAPPING):
        return None
    fields = lowered(custom.items())
    fields.pop(RESERVED_KEY.lower(), None)
    for nested in (DATADOG_KEY, RESERVED_KEY):
        if nested in custom:
            fields.update(decode(custom[nested]))
    return extract(fields)


def inject_client_context(client_context: object, fields: Fields) -> tuple[str | None, Outcome]:
    """The base64 ClientContext to send (the user's, merged), or (None, why not)."""
    if not fields:
        return None, Outcome(reason=NO_CONTEXT)
    if client_context is None:
        # Exactly json.dumps({"custom": fields}, separators=(",", ":")): encode() writes the same JSON.
        text = '{"custom":' + encode(fields) + "}"
        return _checked(base64.b64encode(text.encode("ascii")).decode("ascii"))
    document = _user_document(client_context)
    custom = (document.get("custom") or {}) if document is not None else None
    if document is None or not isinstance(custom, dict):
        return None, Outcome(reason=NOT_APPLICABLE)
    document = {**document, "custom": {**custom, **fields}}
    return _checked(base64.b64encode(json.dumps(document, separators=(",", ":")).encode("utf-8")).decode("ascii"))


def _checked(encoded: str) -> tuple[str | None, Outcome]:
    if len(encoded) > MAX_CLIENT_CONTEXT_BYTES:
        return None, Outcome(reason=SIZE_LIMIT)
    return encoded, INJECTED_CLIENT_CONTEXT


def _user_document(client_context: object) -> dict[str, Any] | None:
    """The user's ClientContext as a dict ({} if none), or None if it is not base64 JSON."""
    if client_context is None:
        return {}
    if not isinstance(client_context, str) or len(client_context) > MAX_CLIENT_CONTEXT_BYTES:
        return None
    try:
        parsed = json.loads(base64.b64decode(client_context, validate=True))
    except (binascii.Error, ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None
