"""One invocation in flight: its facts, its span, and the spans still open under it.

A core module: ``aws_lambda`` (the wrapper that fills it in), ``processors`` and ``export``
import it, and it imports none of them.

The serverless processors read these facts (cold start, retries, memory size…) to
write theirs on the live invocation span, as it starts and, through :func:`end_span`,
just before it ends; the watchdog reads the open spans to end them at a timeout.
Lookups: :func:`starting` while the invocation span is being started, :func:`current`
on the handler's thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import Span as ApiSpan
from opentelemetry.trace import Tracer
from opentelemetry.util.types import AttributeValue

from otel_serverless._guard import report
from otel_serverless._memory import Watermark

if TYPE_CHECKING:
    # Types only: the wrapper (otel_serverless.aws_lambda) fills these in; this module sits below
    # it, so that the processors and the export path read the invocation without importing it.
    from otel_serverless.aws_lambda._state import ColdStart
    from otel_serverless.aws_lambda.triggers import Record, Trigger


class _Named(Protocol):
    @property
    def name(self) -> str: ...


_P = TypeVar("_P", bound=_Named)


class Finisher(_Named, Protocol):
    """What knows facts about an invocation only at its end (``processors.ServerlessProcessor``)."""

    def ending(self, span: ApiSpan, invocation: Invocation, end_time: int) -> Mapping[str, AttributeValue] | None: ...


class Invocation:
    """What the wrapper knows about one invocation, filled in as it runs.

    A plain class rather than a dataclass: building a dataclass's methods at import is
    paid on every cold start, and an invocation is never compared or printed.
    """

    __slots__ = (
        "active_record",
        "closed",
        "cold",
        "deadline_epoch_ms",
        "event",
        "finishers",
        "function_arn",
        "function_name",
        "lock",
        "memory",
        "memory_mb",
        "near_memory_limit",
        "open",
        "pending",
        "records_seen",
        "request_id",
        "request_seen",
        "span",
        "span_id",
        "timed_out",
        "timeout_ms",
        "tracer",
        "trigger",
    )

    def __init__(
        self,
        request_id: str,
        trigger: Trigger,
        event: Any,
        *,
        function_name: str | None = None,
        function_arn: str | None = None,
        memory_mb: int | None = None,
        timeout_ms: float | None = None,
        deadline_epoch_ms: float | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self.request_id = request_id
        self.trigger = trigger
        self.event = event
        self.function_name = function_name
        self.function_arn = function_arn
        self.memory_mb = memory_mb
        #: Time left when the invocation started (≈ the function's timeout), in ms.
        self.timeout_ms = timeout_ms
        self.deadline_epoch_ms = deadline_epoch_ms
        #: The tracer of the invocation span (record spans use the same provider).
        self.tracer = tracer
        self.cold: ColdStart | None = None
        #: Times this request id was handled before in this environment (async retries).
        self.request_seen = 0
        #: Most times one of its stream records was delivered before.
        self.records_seen = 0
        #: What sets end-time facts on the span just before it ends (the serverless processors
        #: that saw it start; see :func:`end_span`).
        self.finishers: list[Finisher] = []
        self.span: ApiSpan | None = None
        self.span_id: int | None = None
        #: Child spans started during the invocation and not ended yet, by span id.
        self.open: dict[int, Span] = {}
        #: Record spans whose processing is over but whose end waits for batchItemFailures.
        self.pending: list[tuple[ApiSpan, int, Record]] = []
        #: The record span being processed right now (traced_records), and its record.
        self.active_record: tuple[ApiSpan, Record] | None = None
        self.lock = threading.Lock()
        self.closed = False
        self.timed_out = False
        #: This invocation's memory high-water mark (started by the memory processor).
        self.memory = Watermark()
        #: The memory guard ended the invocation near the memory limit (see ``aws_lambda._memory_guard``).
        self.near_memory_limit = False


_starting: ContextVar[Invocation | None] = ContextVar("otel_serverless_starting", default=None)
_current: ContextVar[Invocation | None] = ContextVar("otel_serverless_invocation", default=None)
_lock = threading.Lock()
_by_span: dict[int, Invocation] = {}


def starting() -> Invocation | None:
    """The invocation whose span is being started right now (on this thread), if any."""
    return _starting.get()


def current() -> Invocation | None:
    """The invocation running on this thread; else the only one in the process."""
    found = _current.get()
    if found is not None:
        return found
    with _lock:
        if len(_by_span) == 1:
            return next(iter(_by_span.values()))
    return None


def in_flight() -> bool:
    """True while any invocation is in flight in this process (a cheap test per span)."""
    return bool(_by_span)


def end_span(invocation: Invocation, span: ApiSpan) -> None:
    """End the invocation's *span*, its finishers' end-time facts set on it first.

    The facts are computed for the end time the span then ends at (the cost of an
    invocation is its span's duration), and set while the span is still live: they are
    its own attributes, seen by every processor and exporter.
    """
    end_time = time.time_ns()
    write_facts(span, invocation.finishers, lambda finisher: finisher.ending(span, invocation, end_time))
    span.end(end_time=end_time)


def write_facts(
    span: ApiSpan, processors: Iterable[_P], ask: Callable[[_P], Mapping[str, AttributeValue] | None]
) -> None:
    """What *ask* gets from each of *processors*, set on *span* in one write, each under the guard."""
    found: dict[str, AttributeValue] = {}
    for processor in processors:
        try:
            attributes = ask(processor)
        except Exception as error:
            report(f"processor.{processor.name}", error)
            continue
        if attributes:
            found.update(attributes)
    if found:
        try:
            span.set_attributes(found)
        except Exception as error:
            report("processor.attributes", error)


def register(invocation: Invocation) -> None:
    if invocation.span_id is not None:
        with _lock:
            _by_span[invocation.span_id] = invocation


def unregister(invocation: Invocation) -> None:
    if invocation.span_id is not None:
        with _lock:
            _by_span.pop(invocation.span_id, None)


def track(span: Span) -> None:
    """A span starts: a child of the invocation in flight is kept until it ends."""
    invocation = current()
    context = span.get_span_context()
    if invocation is not None and not invocation.closed and context.span_id != invocation.span_id:
        invocation.open[context.span_id] = span


def untrack(span: ReadableSpan) -> None:
    """A span ends: no invocation keeps it any longer."""
    context = span.context
    if context is None:
        return
    with _lock:
        invocations = list(_by_span.values())
    for invocation in invocations:
        invocation.open.pop(context.span_id, None)


class OpenSpans(SpanProcessor):
    """Keeps each invocation's open child spans, so a timeout can end them (never exports).

    The wrapper adds one to each provider it starts invocation spans with.
    """

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if _starting.get() is None:  # not the invocation span itself
            track(span)

    def on_end(self, span: ReadableSpan) -> None:
        if _by_span:
            untrack(span)
