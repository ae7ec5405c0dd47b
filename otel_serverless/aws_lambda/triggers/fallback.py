"""Anything else (an async invoke's payload, an IoT rule's device message, a test payload, None …): no records.

The parent, if any, is the function's trace header ``_X_AMZN_TRACE_ID``: an asynchronous
``Invoke`` does not deliver ``ClientContext``, and the trace header is where AWS passes the
caller's context on (our producer writes it, see ``otel_serverless.botocore._trace_header``).
Read only here, when neither the event nor the client context carries a context.

The sampled flag in that header may be a decision we did not make: the platform writes
``Sampled=0`` when the function has no active X-Ray tracing. Such a header never becomes
the parent, whose flag a parent-based sampler would follow and record nothing: the
invocation starts its own trace, linked to that context (``serverless.link.xray_unsampled``).
"""

from __future__ import annotations

import os
from typing import Any, Final

from opentelemetry import trace
from opentelemetry.trace import Link

from otel_serverless import attributes as attr
from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers import _extract

#: Where the Lambda runtime puts the invocation's trace header.
TRACE_HEADER_VARIABLE: Final = "_X_AMZN_TRACE_ID"


def detect(event: Any, context: Any) -> base.Trigger:
    trigger = base.Trigger(name="fallback", faas_trigger=base.OTHER)
    header = os.environ.get(TRACE_HEADER_VARIABLE)
    if not header:
        return trigger
    found = _extract.call("xray", "extract_header", header)
    if found is None:
        return trigger
    span_context = trace.get_current_span(found).get_span_context()
    if span_context.trace_flags.sampled:
        trigger.parent = found
    else:
        trigger.links.append(Link(span_context, {attr.LINK_XRAY_UNSAMPLED: True}))
    return trigger
