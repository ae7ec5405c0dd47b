"""A batch span processor whose ``force_flush`` honours a hard deadline.

The SDK's ``BatchSpanProcessor.force_flush`` exports on the caller's thread and
ignores its timeout (opentelemetry-python#4568): a collector that accepts the
connection and never answers holds the caller for the exporter's whole
timeout and its retries. In Lambda that is billed time, or a timed-out
invocation. Here every export runs on one worker thread; a flush only wakes the
worker and waits for it, at most until the deadline. Spans the worker has not
sent by then stay with it and go out on its next round.

Nothing is lost silently. A span that cannot be queued (the queue is full) or
whose export failed for good (the collector refused it, or retries ran out) is
counted: :attr:`DeadlineBatchSpanProcessor.lost` in all, a bounded log line with
the counts (at most one per :data:`LOSS_LOG_INTERVAL_S`), and the count since the
last report on the next local root span this processor sees start
(``serverless.export.dropped_spans``), so the loss reaches the backend with the
first export that gets through.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Final, Protocol, runtime_checkable

from opentelemetry.context import (
    _SUPPRESS_INSTRUMENTATION_KEY,  # the API's own key; the SDK uses it the same way
    Context,
    attach,
    detach,
    set_value,
)
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import TraceFlags

from otel_serverless._guard import guard, logger, report
from otel_serverless.attributes import EXPORT_DROPPED
from otel_serverless.export._fork import in_child_after_fork

#: Largest flush sent on the caller's thread (encoding more could overrun a short deadline).
INLINE_MAX_SPANS: Final = 64
#: Least time between two log lines about lost spans (each says the counts so far).
LOSS_LOG_INTERVAL_S: Final = 30.0


class Export(Protocol):
    """An export in progress (see :class:`Resumable`)."""

    def run(self, until: float) -> SpanExportResult | None:
        """Go on until it ends (its result) or ``time.monotonic()`` reaches *until* (None)."""


@runtime_checkable
class Resumable(Protocol):
    """An exporter whose exports can stop at a deadline and go on on another thread.

    Its exports make no call that an instrumentation traces (ours: plain sockets), so
    a flush that sends on the caller's thread does not suppress instrumentation.
    """

    def begin(self, spans: Sequence[ReadableSpan]) -> Export | None:
        """An export of *spans*, or None if the exporter is busy."""


@runtime_checkable
class CountsRejected(Protocol):
    """An exporter that tells how many spans a collector rejected in exports it reported successful."""

    def take_rejected(self) -> int:
        """Spans rejected since the last call (OTLP partial success)."""


class DeadlineBatchSpanProcessor(SpanProcessor):
    """Queue finished sampled spans; export them in batches on a worker thread."""

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        max_queue_size: int = 2048,
        max_export_batch_size: int = 512,
        schedule_delay_millis: float = 5000,
        flush_timeout_millis: float = 2000,
    ) -> None:
        self.exporter = exporter
        self._max_queue_size = max_queue_size
        self._batch_size = max(1, min(max_export_batch_size, max_queue_size))
        self._delay = schedule_delay_millis / 1000
        self.flush_timeout_millis = flush_timeout_millis
        self._queue: deque[ReadableSpan] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        # Flush bookkeeping: spans accepted so far, and how many the worker has finished.
        self._accepted = 0
        self._finished = 0
        self._failed_exports = 0
        self._waiters: list[_Waiter] = []
        # True while a batch is out (on the worker or the caller's thread); the one export handed over.
        self._exporting = False
        self._handover: tuple[Export, int] | None = None
        self._begin = exporter.begin if isinstance(exporter, Resumable) else None
        self._take_rejected = exporter.take_rejected if isinstance(exporter, CountsRejected) else None
        #: Spans not queued because the queue was full.
        self.dropped = 0
        #: Spans in exports that failed for good (refused, retries ran out) or that the collector rejected.
        self.failed = 0
        #: Lost since the count last rode on a span (see :meth:`on_start`).
        self._unreported = 0
        self._loss_logged_at = -math.inf
        self._stopping = False
        self._worker: threading.Thread | None = None
        # A forked child inherits the queue but not the thread: it starts afresh.
        # (Checking the pid on every span instead costs a system call per span.)
        in_child_after_fork(self._forget_worker)

    @property
    def lost(self) -> int:
        """Every span this processor accepted to export and could not: dropped and failed."""
        return self.dropped + self.failed

    # -- SpanProcessor ----------------------------------------------------------------
    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if not self._unreported:  # the usual case: one attribute read per span
            return
        parent = span.parent
        if parent is not None and not parent.is_remote:
            return  # the count rides on a local root (an invocation, a request), not on a child
        with self._lock:
            count, self._unreported = self._unreported, 0
        if count:
            span.set_attribute(EXPORT_DROPPED, count)

    def on_end(self, span: ReadableSpan) -> None:
        context = span.context
        # The flags' bit, not the .sampled property: one call less per span.
        if self._stopping or context is None or not context.trace_flags & TraceFlags.SAMPLED:
            return
        queue = self._queue
        with self._lock:
            if len(queue) >= self._max_queue_size:
                self.dropped += 1
                self._unreported += 1
                dropped = True
            else:
                queue.append(span)
                self._accepted += 1
                dropped = False
            full = len(queue) >= self._batch_size
        if dropped:
            self._log_loss("the export queue is full")
            return
        if self._worker is None:
            self._ensure_worker()
        if full and not self._wake.is_set():  # set() takes a lock: only when it changes something
            self._wake.set()

    def force_flush(self, timeout_millis: int | None = None) -> bool:
        """Send every span ended so far; wait at most the deadline. True if all were sent."""
        limit = self.flush_timeout_millis if timeout_millis is None else min(timeout_millis, self.flush_timeout_millis)
        until = time.monotonic() + max(0.0, limit) / 1000
        batch: list[ReadableSpan] = []
        with self._lock:
            if self._finished >= self._accepted:
                return True
            if self._begin is not None and not self._exporting and len(self._queue) <= INLINE_MAX_SPANS:
                # The worker is idle, so the queue holds every span not finished yet.
                self._exporting = True
                batch = list(self._queue)
                self._queue.clear()
        if batch:
            return self._export_here(batch, until)
        return self._wait_for_worker(until)

    def _export_here(self, batch: list[ReadableSpan], until: float) -> bool:
        """Send *batch* on the caller's thread until *until*; hand what is left to the worker."""
        assert self._begin is not None
        export: Export | None = None
        result: SpanExportResult | None = SpanExportResult.FAILURE
        try:
            export = self._begin(batch)
            result = None if export is None else export.run(until)
        except Exception as error:  # rather than guard(): this runs in every warm invocation
            report("export", error)
        if export is None:  # the exporter is busy elsewhere: the worker sends it in turn
            with self._lock:
                self._queue.extendleft(reversed(batch))
                self._exporting = False
            return self._wait_for_worker(until)
        if result is None:
            with self._lock:
                self._handover = (export, len(batch))
            self._ensure_worker()
            self._wake.set()
            return False
        self._finish_batch(len(batch), result, wake_worker=True)
        return result is SpanExportResult.SUCCESS

    def _wait_for_worker(self, until: float) -> bool:
        with self._lock:
            if self._finished >= self._accepted:
                return True
            waiter = _Waiter(self._accepted, self._failed_exports)
            self._waiters.append(waiter)
        self._ensure_worker()
        self._wake.set()
        return waiter.done.wait(max(0.0, until - time.monotonic())) and waiter.ok

    def _finish_batch(self, count: int, result: SpanExportResult | None, *, wake_worker: bool = False) -> None:
        """Count a batch as done (by whichever thread ended it); wake whoever waits."""
        failed = result is not SpanExportResult.SUCCESS
        # Spans the collector took the request for and rejected are lost as well.
        rejected = 0 if failed or self._take_rejected is None else min(count, max(0, self._take_rejected()))
        with self._lock:
            self._finished += count
            if failed:
                self._failed_exports += 1
            lost = count if failed else rejected
            self.failed += lost
            self._unreported += lost
            self._exporting = False
            more = bool(self._queue) or bool(self._waiters)
        if failed:
            self._log_loss("an export failed")
        elif rejected:
            self._log_loss("the collector rejected part of an export")
        self._release_waiters()
        if more and wake_worker:
            # Spans ended (or flushes began) while this batch was out: the worker takes them.
            self._ensure_worker()
            self._wake.set()

    def _log_loss(self, why: str) -> None:
        now = time.monotonic()
        if now - self._loss_logged_at < LOSS_LOG_INTERVAL_S:
            return
        self._loss_logged_at = now
        logger.warning(
            "otel-serverless: spans were lost (%s): %d so far, %d of them in failed exports and %d dropped "
            "from a full queue; the count goes with the next span exported as %s",
            why,
            self.lost,
            self.failed,
            self.dropped,
            EXPORT_DROPPED,
        )

    def shutdown(self) -> None:
        if self._stopping:
            return
        self.force_flush()
        self._stopping = True
        self._wake.set()
        worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(self.flush_timeout_millis / 1000)
        with guard("export.shutdown"):
            self.exporter.shutdown()

    # -- worker --------------------------------------------------------------
    def _forget_worker(self) -> None:
        self._worker = None
        # Whatever was out belonged to the parent's threads, and so may the lock: a parent thread
        # holding it at the fork would never release it here. The parent sends what was out; the
        # child counts it as finished, so its own flushes wait only for what it queues.
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._waiters = []
        self._exporting = False
        self._handover = None
        self._finished = self._accepted - len(self._queue)

    def _ensure_worker(self) -> None:
        worker = self._worker
        if worker is None or not worker.is_alive():
            with self._lock:
                if self._worker is None or not self._worker.is_alive():
                    # Started on first use: nothing on the cold-start path.
                    self._worker = threading.Thread(target=self._run, name="otel-serverless-export", daemon=True)
                    self._worker.start()

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(self._delay)
            self._wake.clear()
            self._drain()
        self._drain()

    def _drain(self) -> None:
        while True:
            with self._lock:
                handover, self._handover = self._handover, None
                batch: list[ReadableSpan] = []
                if handover is None:
                    if self._exporting:
                        return  # the caller's thread is sending; it wakes us when done
                    count = min(self._batch_size, len(self._queue))
                    batch = [self._queue.popleft() for _ in range(count)]
                    self._exporting = bool(batch)
            if handover is None and not batch:
                self._release_waiters()
                return
            # The exporter's own HTTP/gRPC calls must not be traced into the queue.
            token = attach(set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
            result: SpanExportResult | None = SpanExportResult.FAILURE
            try:
                with guard("export"):
                    # A handed-over export goes on without a limit of ours: its own deadline ends it.
                    result = handover[0].run(math.inf) if handover else self.exporter.export(batch)
            finally:
                detach(token)
            self._finish_batch(handover[1] if handover else len(batch), result)

    def _release_waiters(self) -> None:
        if not self._waiters:  # the usual case (a flush that sent on its own thread): no lock
            return
        with self._lock:
            ready = [w for w in self._waiters if self._finished >= w.target]
            self._waiters = [w for w in self._waiters if self._finished < w.target]
            for waiter in ready:
                # Conservative: any failed export since the flush began makes it unconfirmed.
                waiter.ok = self._failed_exports == waiter.failures_before
        for waiter in ready:
            waiter.done.set()


class _Waiter:
    """One pending flush: done once the worker has finished *target* spans."""

    __slots__ = ("done", "failures_before", "ok", "target")

    def __init__(self, target: int, failures_before: int) -> None:
        self.target = target
        self.failures_before = failures_before
        self.ok = False
        self.done = threading.Event()
