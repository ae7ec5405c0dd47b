"""``traced_records(event)``: each record processed inside its own span, parented to its producer.

The invocation span *links* to every producer; the processing span of a record is
the *child* of its own producer (or of the invocation span when the record carries
no context) and links back to the invocation. A record's span stays open, with its
end time noted, until the handler returns, so that a ``batchItemFailures`` answer
can still mark it as failed; outside an invocation it ends at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, Final

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode

from otel_serverless import _capture, _invocation
from otel_serverless import attributes as attr
from otel_serverless._guard import guard
from otel_serverless._invocation import Invocation
from otel_serverless.aws_lambda import _tracers
from otel_serverless.aws_lambda.triggers import Record, Trigger, detect
from otel_serverless.aws_lambda.triggers._messages import message_of

#: Most error spans the wrapper adds for the failed records of one invocation.
MAX_FAILED_SPANS: Final = 100


def traced_records(event: Any, *, tracer_provider: Any = None) -> Iterator[Any]:
    """Yield the records of *event* (as delivered), each inside its processing span."""
    invocation = _invocation.current()
    if invocation is not None and (invocation.event is not event or invocation.closed):
        invocation = None
    trigger: Trigger | None = invocation.trigger if invocation is not None else None
    if trigger is None:
        with guard("records.detect"):
            trigger = detect(event)
    if trigger is None or not trigger.records:
        yield from _raw_records(event)
        return
    records = trigger.records
    tracer = invocation.tracer if invocation is not None and tracer_provider is None else None
    if tracer is None:
        with guard("records.tracer"):
            tracer = _tracers.tracer_for(tracer_provider)
    for record in records:
        started: tuple[Span, object] | None = None
        if tracer is not None:
            with guard("records.start"):
                started = _start(tracer, trigger, record, invocation)
        interrupted = True
        try:
            yield record.source
            interrupted = False
        finally:
            # Interrupted: the loop was left (break, or the handler raising); which one,
            # only the wrapper learns, so the span stays the active record until then.
            if started is not None:
                with guard("records.end"):
                    _stop(started, record, invocation, interrupted=interrupted)


def _raw_records(event: Any) -> Iterator[Any]:
    found = event.get("Records") if isinstance(event, dict) else None
    if isinstance(found, list):
        yield from found


def _open(tracer: trace.Tracer, trigger: Trigger, record: Record, invocation: Invocation | None) -> Span:
    """A record's processing span: the child of its producer (else of the current span), linked to the invocation."""
    invocation_span = invocation.span if invocation is not None else None
    links = list(record.links)
    if record.parent is not None:
        parent = record.parent
        if invocation_span is not None:
            links.insert(0, Link(invocation_span.get_span_context()))
    else:
        parent = context_api.get_current()
    attributes = dict(record.attributes)
    attributes[attr.RECORD_INDEX] = record.index
    attributes.setdefault(attr.MESSAGING_OPERATION_TYPE, "process")
    attempt = max(1, record.attempt or 1, record.redelivered + 1)
    attributes[attr.RETRY_ATTEMPT] = attempt
    attributes[attr.RETRY] = attempt > 1
    if _capture.enabled():
        attributes[attr.PAYLOAD_MESSAGE] = _capture.render(message_of(record.source))
    return tracer.start_span(
        f"process {trigger.destination or trigger.name}",
        context=parent,
        kind=SpanKind.CONSUMER,
        attributes=attributes,
        links=links,
    )


def _start(
    tracer: trace.Tracer, trigger: Trigger, record: Record, invocation: Invocation | None
) -> tuple[Span, object]:
    span = _open(tracer, trigger, record, invocation)
    parent = record.parent if record.parent is not None else context_api.get_current()
    token = context_api.attach(trace.set_span_in_context(span, parent))
    if invocation is not None:
        invocation.active_record = (span, record)
    return span, token


def _stop(started: tuple[Span, object], record: Record, invocation: Invocation | None, *, interrupted: bool) -> None:
    span, token = started
    context_api.detach(token)  # type: ignore[arg-type]  # attach()'s own token
    if invocation is None:
        span.end()
        return
    if not interrupted:
        invocation.active_record = None
    with invocation.lock:
        if not invocation.closed:
            invocation.pending.append((span, time.time_ns(), record))
            return
    if span.is_recording():  # the watchdog may have ended it already
        span.end()


def end_pending(invocation: Invocation, failed_items: set[str]) -> set[int]:
    """End the record spans held for ``batchItemFailures``, marking those it names; the
    indexes of the records that had a span."""
    pending, invocation.pending = invocation.pending, []
    spanned: set[int] = set()
    for span, ended, record in pending:
        spanned.add(record.index)
        with guard("records.pending"):
            if record.item_id is not None and record.item_id in failed_items:
                mark_failed(span, "reported in batchItemFailures")
            span.end(end_time=ended)
    return spanned


def mark_failed(span: Span, reason: str) -> None:
    span.set_attribute(attr.RECORD_FAILED, True)
    span.set_status(Status(StatusCode.ERROR, reason))


def report_failures(invocation: Invocation, failed: list[Record], spanned: set[int], reason: str) -> None:
    """Records AWS will deliver again: their count on the invocation, and an error span for
    each one that had none (no ``traced_records``), in its producer's trace (at most
    :data:`MAX_FAILED_SPANS`; the count says how many there were)."""
    span, tracer = invocation.span, invocation.tracer
    if span is None:
        return
    span.set_attribute(attr.BATCH_FAILED_RECORDS, len(failed))
    if tracer is None:
        return
    here = context_api.attach(trace.set_span_in_context(span))
    try:
        for record in [record for record in failed if record.index not in spanned][:MAX_FAILED_SPANS]:
            with guard("records.failed"):
                failed_span = _open(tracer, invocation.trigger, record, invocation)
                mark_failed(failed_span, reason)
                failed_span.end()
    finally:
        context_api.detach(here)


def fail_active(invocation: Invocation, error: BaseException) -> None:
    """The handler raised while processing a record: that record's span carries the error."""
    active = invocation.active_record
    if active is None:
        return
    span, _ = active
    span.record_exception(error, escaped=True)
    from otel_serverless._scrub import describe  # only on an error

    span.set_status(Status(StatusCode.ERROR, describe(error)))
