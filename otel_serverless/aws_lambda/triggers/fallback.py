"""Anything else (an async invoke's payload, an IoT rule's device message, a test payload, None …): no records.

The parent, if any, is the function's trace header ``_X_AMZN_TRACE_ID``: an asynchronous
``Invoke`` does not deliver ``ClientContext``, and the trace header is where AWS passes the
caller's context on (our producer writes it, see ``otel_serverless.botocore._trace_header``).
Read only here, when neither the event nor the client context carries a context.

The sampled flag in that header may be a decision we did not make: the platform writes
``Sampled=0`` when the function has no active X-Ray tracing. Such a header never becomes
the parent, whose flag a parent-based sampler would follow and record nothing: the
invocation starts its own trace, linked to that context (``serverless.link.xray_unsampled``;
see ``_unsampled`` and ``OTEL_SERVERLESS_XRAY_UNSAMPLED``).
"""

from __future__ import annotations

import os
from typing import Any, Final

from otel_serverless.aws_lambda.triggers import _base as base
from otel_serverless.aws_lambda.triggers import _extract, _unsampled

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
    trigger.parent = _unsampled.settle(found, trigger.links)  # Sampled=0: a link (the setting may say obey)
    return trigger
