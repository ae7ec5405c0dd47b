"""A batch span processor whose ``force_flush`` honours a hard deadline.

The SDK's ``BatchSpanProcessor.force_flush`` exports on the caller's thread and
ignores its timeout (opentelemetry-python#4568): a collector that accepts the
connection and never answers holds the caller for the exporter's whole
timeout and its retries. In Lambda that is billed time, or a timed-out
invocation. Here every export runs on one worker thread; a flush only wakes the
worker and waits for it, at most until the deadline. Spans the worker has not
sent by then stay with it and go out on its next round.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import deque
from collections.abc import Callable

from opentelemetry.context import (
    _SUPPRESS_INSTRUMENTATION_KEY,  # the API's own key; the SDK uses it the same way
    attach,
    detach,
    set_value,
)
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_serverless._guard import guard, warn_once


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
        self.dropped = 0
        self._stopping = False
        self._worker: threading.Thread | None = None
        if hasattr(os, "register_at_fork"):
            # A forked child inherits the queue but not the thread: it starts afresh.
            # (Checking the pid on every span instead costs a system call per span.)
            forget = weakref.WeakMethod(self._forget_worker)
            os.register_at_fork(after_in_child=lambda: _call(forget))

    # -- SpanProcessor (on_start: the base class's, which does nothing) -------------
    def on_end(self, span: ReadableSpan) -> None:
        context = span.context
        if self._stopping or context is None or not context.trace_flags.sampled:
            return
        queue = self._queue
        with self._lock:
            if len(queue) >= self._max_queue_size:
                self.dropped += 1
                dropped = True
            else:
                queue.append(span)
                self._accepted += 1
                dropped = False
            full = len(queue) >= self._batch_size
        if dropped:
            warn_once("export:queue-full", "otel-serverless: export queue full, dropping spans")
            return
        if self._worker is None:
            self._ensure_worker()
        if full and not self._wake.is_set():  # set() takes a lock: only when it changes something
            self._wake.set()

    def force_flush(self, timeout_millis: int | None = None) -> bool:
        """Send every span ended so far; wait at most the deadline. True if all were sent."""
        limit = self.flush_timeout_millis if timeout_millis is None else min(timeout_millis, self.flush_timeout_millis)
        with self._lock:
            if self._finished >= self._accepted:
                return True
            waiter = _Waiter(self._accepted, self._failed_exports)
            self._waiters.append(waiter)
        self._ensure_worker()
        self._wake.set()
        return waiter.done.wait(max(0.0, limit) / 1000) and waiter.ok

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
                count = min(self._batch_size, len(self._queue))
                batch = [self._queue.popleft() for _ in range(count)]
            if not batch:
                self._release_waiters()
                return
            # The exporter's own HTTP/gRPC calls must not be traced into the queue.
            token = attach(set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
            result = SpanExportResult.FAILURE
            try:
                with guard("export"):
                    result = self.exporter.export(batch)
            finally:
                detach(token)
            with self._lock:
                self._finished += len(batch)
                if result is not SpanExportResult.SUCCESS:
                    self._failed_exports += 1
            self._release_waiters()

    def _release_waiters(self) -> None:
        with self._lock:
            ready = [w for w in self._waiters if self._finished >= w.target]
            self._waiters = [w for w in self._waiters if self._finished < w.target]
            for waiter in ready:
                # Conservative: any failed export since the flush began makes it unconfirmed.
                waiter.ok = self._failed_exports == waiter.failures_before
        for waiter in ready:
            waiter.done.set()


def _call(method: weakref.WeakMethod[Callable[[], None]]) -> None:
    found = method()
    if found is not None:
        found()


class _Waiter:
    """One pending flush: done once the worker has finished *target* spans."""

    __slots__ = ("done", "failures_before", "ok", "target")

    def __init__(self, target: int, failures_before: int) -> None:
        self.target = target
        self.failures_before = failures_before
        self.ok = False
        self.done = threading.Event()
