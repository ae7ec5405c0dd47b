"""A killed invocation, reported by the next environment's first invocation, in its own trace.

When the previous invocation of this environment did not finish (``_state``: timeout,
out of memory, crash), its span may never have been exported. The first invocation of
the new process links to it (``serverless.previous_invocation.killed``) and adds one span
to the killed invocation's trace — the child of its invocation span, with the reason and
its request id, marked as an error — so the trace that was cut short says why.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.trace import Link, SpanContext, Status, StatusCode, TraceFlags, Tracer
from opentelemetry.util.types import AttributeValue

from otel_serverless import attributes as attr
from otel_serverless._invocation import Invocation
from otel_serverless.aws_lambda._state import Killed


def _context(killed: Killed) -> SpanContext | None:
    if not killed.trace_id or not killed.span_id:
        return None
    found = SpanContext(killed.trace_id, killed.span_id, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))
    return found if found.is_valid else None


def links(killed: Killed) -> list[Link]:
    """The link from the new invocation span to the killed one (none when its ids are unknown)."""
    found = _context(killed)
    if found is None:
        return []
    return [Link(found, {attr.PREVIOUS_KILLED: True, attr.PREVIOUS_REASON: killed.reason})]


def report(tracer: Tracer, invocation: Invocation, killed: Killed) -> None:
    """One error span in the killed invocation's trace, linked to *invocation*."""
    parent = _context(killed)
    if parent is None or invocation.span is None:
        return
    attributes: dict[str, AttributeValue] = {attr.PREVIOUS_KILLED: True, attr.PREVIOUS_REASON: killed.reason}
    if killed.request_id:
        attributes[attr.PREVIOUS_REQUEST_ID] = killed.request_id
    span = tracer.start_span(
        f"{invocation.function_name or 'lambda.handler'} killed",
        context=trace.set_span_in_context(trace.NonRecordingSpan(parent)),
        attributes=attributes,
        links=[Link(invocation.span.get_span_context(), {attr.PREVIOUS_KILLED: True})],
    )
    span.set_attribute(attr.ERROR_TYPE, killed.reason)
    span.set_status(Status(StatusCode.ERROR, f"the invocation did not finish: {killed.reason}"))
    span.end()
