"""Coexistence with upstream opentelemetry-instrumentation-botocore.

Decision: one span per AWS call, one copy of the context per message.

* When upstream ``BotocoreInstrumentor`` is active it already opens a span for
  every AWS call, so we open none: we add our attributes (messaging, correlation
  ids, propagation outcome) to *its* span, which is the current span inside the
  call, and the context we inject is that span's.
* Message-level propagation is ours alone. Upstream writes one message
  attribute per field on SNS (up to three of the ten slots) and rewrites the
  user's Lambda ``Payload``; we remove exactly what it added (attributes whose
  value is the propagator's output for the current span; the ``headers`` it put
  into the payload, restoring the caller's bytes when we saw them first) and
  inject our one slot instead.
* Its ``X-Amzn-Trace-Id`` HTTP header is left alone: it is a request header,
  not part of the message. The one exception is Lambda Invoke, where that header is
  what reaches an asynchronous invocation: there it is set to the call's span
  (:mod:`otel_serverless.botocore._trace_header`), whoever wrote it first.

Which wrapper is outermost depends on instrumentation order; both orders give
the same result (tested). When upstream wraps outside us it has already changed
the caller's ``MessageAttributes`` dict in place before we run: that mutation is
upstream's, and is the one thing we cannot undo.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any, Final

from opentelemetry import trace

SCOPE: Final = "opentelemetry.instrumentation.botocore"


def active() -> bool:
    """True if upstream BotocoreInstrumentor is instrumenting (it will open a span per call)."""
    module = sys.modules.get(SCOPE)
    if module is None:  # never imported: cannot be instrumenting
        return False
    instrumentor = getattr(getattr(module, "BotocoreInstrumentor", None), "_instance", None)
    return bool(getattr(instrumentor, "_is_instrumented_by_opentelemetry", False))


def current_span_is_upstream() -> bool:
    span = trace.get_current_span()
    # Upstream names its tracer per extension: "opentelemetry.instrumentation.botocore.sqs".
    name = getattr(getattr(span, "instrumentation_scope", None), "name", None)
    return isinstance(name, str) and (name == SCOPE or name.startswith(SCOPE + "."))


def strip_attributes(attributes: object, fields: Mapping[str, str]) -> object:
    """*attributes* without the per-field attributes upstream added for the current span."""
    if not isinstance(attributes, Mapping):
        return attributes
    added = [
        name
        for name, value in fields.items()
        if isinstance(attributes.get(name), Mapping) and attributes[name].get("StringValue") == value
    ]
    if not added:
        return attributes
    return {name: value for name, value in attributes.items() if name not in added}


def strip_payload(payload: object, fields: Mapping[str, str]) -> object:
    """The Lambda payload without the ``headers`` entries upstream injected for the current span."""
    if not isinstance(payload, (str, bytes)):
        return payload
    try:
        document: Any = json.loads(payload)
    except (ValueError, RecursionError):
        return payload
    headers = document.get("headers") if isinstance(document, dict) else None
    if not isinstance(headers, dict):
        return payload
    remaining = {name: value for name, value in headers.items() if fields.get(name) != value}
    if len(remaining) == len(headers):
        return payload
    if remaining:
        document["headers"] = remaining
    else:
        del document["headers"]
    return json.dumps(document)
