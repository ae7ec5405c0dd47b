"""Lambda Invoke also carries the context in its ``X-Amzn-Trace-Id`` request header.

An asynchronous invoke (``InvocationType=Event``) does not deliver ``ClientContext``
to the function (AWS documents this); the trace header is what Lambda does pass on:
it becomes the function's ``_X_AMZN_TRACE_ID``, which our wrapper reads when the
event carries no context of its own. X-Ray's format is lossless for the 128-bit
trace id, the span id and the sampled flag.

Inside a Lambda function botocore already sends a trace header: the platform's own
(``_X_AMZN_TRACE_ID``, for Lambda's recursive loop detection), and upstream botocore
instrumentation then leaves its own out. We replace its ``Root``, ``Parent`` and
``Sampled`` with the invoke span's and keep every other field it had (``Lineage``,
which the loop detection counts), so both keep working. Nothing is written when
``OTEL_PROPAGATORS`` carries nothing (``none``) or Lambda is excluded from propagation.

The header is set in ``before-send``, after signing: botocore never signs
``X-Amzn-Trace-Id``, so changing it leaves the signature valid.
"""

from __future__ import annotations

import weakref
from typing import Any, Final

from opentelemetry import trace

from otel_serverless._guard import report
from otel_serverless.botocore import _config
from otel_serverless.propagation import xray
from otel_serverless.propagation._carrier import inject_fields

_UNIQUE: Final = "otel_serverless.trace_header"
#: Fields of the X-Ray header that name the trace position; every other field is kept as it was.
_OURS: Final = frozenset({"root", "parent", "sampled"})
_watched: weakref.WeakSet[Any] = weakref.WeakSet()


def watch(client: Any) -> None:
    """Set the header on *client*'s Lambda invokes (once per client)."""
    events = client.meta.events
    if events in _watched:
        return
    events.register("before-send.lambda.Invoke", _on_send, unique_id=_UNIQUE)
    _watched.add(events)


def merged(ours: str, existing: object) -> str:
    """*ours* (Root, Parent, Sampled) followed by the other fields of the *existing* header."""
    if isinstance(existing, bytes):
        existing = existing.decode("ascii", "replace")
    if not isinstance(existing, str) or not existing:
        return ours
    kept = [
        part.strip()
        for part in existing.split(";")
        if "=" in part and part.split("=", 1)[0].strip().lower() not in _OURS
    ]
    return ";".join([ours, *kept])


def _on_send(request: Any = None, **kwargs: Any) -> None:
    try:
        if request is None or "lambda" in _config.read().exclude:
            return
        if not trace.get_current_span().get_span_context().is_valid or not inject_fields():
            return  # no span, or OTEL_PROPAGATORS carries nothing
        value = xray.header()
        if value is not None:
            request.headers["X-Amzn-Trace-Id"] = merged(value, request.headers.get("X-Amzn-Trace-Id"))
    except Exception as error:
        report("botocore.lambda.trace_header", error)
