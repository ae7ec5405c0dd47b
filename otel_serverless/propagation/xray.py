"""X-Ray trace header <-> OpenTelemetry context, where AWS accepts only X-Ray.

Two channels take X-Ray format only: the SQS system attribute
``AWSTraceHeader`` (our fallback when all ten message-attribute slots are
taken) and EventBridge's ``TraceHeader``. The conversion is the upstream
``AwsXRayPropagator`` (a dependency of opentelemetry-instrumentation-botocore);
it is lossless for the trace id (X-Ray's ``1-{8 hex}-{24 hex}`` is the 128-bit
id split in two), the parent span id and the sampled flag. ``tracestate`` and
baggage do not survive, which is why it is a fallback and not the default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.context import Context

from otel_serverless.propagation._carrier import MAX_SLOT_CHARS, is_remote_parent

if TYPE_CHECKING:
    from opentelemetry.propagators.aws.aws_xray_propagator import AwsXRayPropagator

#: The header name, and the SQS system attribute that carries the same value.
HEADER: Final = "X-Amzn-Trace-Id"
SQS_SYSTEM_ATTRIBUTE: Final = "AWSTraceHeader"

_propagator: AwsXRayPropagator | None = None
_FROM_HEADER: Final = context_api.create_key("otel_serverless.xray_header")


def _xray() -> AwsXRayPropagator:
    # Imported on first use: consumers that never see an X-Ray header never pay for it.
    global _propagator
    if _propagator is None:
        from opentelemetry.propagators.aws.aws_xray_propagator import AwsXRayPropagator

        _propagator = AwsXRayPropagator()
    return _propagator


def header(context: Context | None = None) -> str | None:
    """The X-Ray header for the span in *context* (default: current), or None if there is none."""
    carrier: dict[str, str] = {}
    _xray().inject(carrier, context=context)
    return carrier.get(HEADER)


def extract_header(value: object) -> Context | None:
    """A context with the remote span an X-Ray header names, or None (never raises on bad input).

    The context says where it came from (see :func:`unsampled_header`): an X-Ray header's
    sampled flag may be a decision no sampler of ours made.
    """
    if not isinstance(value, str) or not value or len(value) > MAX_SLOT_CHARS:
        return None
    context = _xray().extract({HEADER: value}, context=Context())
    return context_api.set_value(_FROM_HEADER, True, context) if is_remote_parent(context) else None


def unsampled_header(context: Context | None) -> bool:
    """Whether *context* came from an X-Ray header (:func:`extract_header`) with ``Sampled=0``."""
    if context is None or context.get(_FROM_HEADER) is not True:
        return False
    return not trace.get_current_span(context).get_span_context().trace_flags.sampled


def lossless(context: Context | None = None) -> str | None:
    """The X-Ray header for *context* if it round-trips exactly (ids and sampled flag), else None."""
    span_context = trace.get_current_span(context).get_span_context()
    value = header(context)
    if value is None:
        return None
    back = extract_header(value)
    if back is None:
        return None
    again = trace.get_current_span(back).get_span_context()
    same = (
        again.trace_id == span_context.trace_id
        and again.span_id == span_context.span_id
        and again.trace_flags.sampled == span_context.trace_flags.sampled
    )
    return value if same else None
