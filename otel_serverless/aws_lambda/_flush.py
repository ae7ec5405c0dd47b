"""Flush before the freeze: within a deadline derived from the time left, never longer.

With the pipeline from ``configure()`` the flush has its own hard deadline. Any
other provider (a user's, the test suite's) is flushed on a helper thread that is
waited for only until the deadline, since its ``force_flush`` may ignore its
timeout — unless all its processors are known to keep deadlines.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from opentelemetry import trace

from otel_serverless._guard import guard

#: Part of the time left kept back after the flush (the runtime still has to answer).
RESERVE_SHARE = 0.05
MIN_RESERVE_MS = 5.0
MAX_RESERVE_MS = 100.0


def budget_ms(remaining_ms: float | None, cap_ms: float = 2000.0) -> float:
    """How long a flush may take with *remaining_ms* left (*cap_ms* if the deadline is unknown)."""
    if remaining_ms is None:
        return cap_ms
    reserve = min(MAX_RESERVE_MS, max(MIN_RESERVE_MS, remaining_ms * RESERVE_SHARE))
    return max(0.0, min(cap_ms, remaining_ms - reserve))


def flush(provider: Any, timeout_ms: float) -> bool:
    """Flush *provider* (None: the configured pipeline or the global provider); True if all sent."""
    if timeout_ms < 1:
        return False
    from otel_serverless.export._pipeline import current

    telemetry = current()
    if telemetry is not None and (provider is None or provider is telemetry.provider):
        return telemetry.flush(timeout_ms)
    target = provider if provider is not None else trace.get_tracer_provider()
    force_flush = getattr(target, "force_flush", None)
    if not callable(force_flush):
        return True
    if _honours_deadlines(target):
        with guard("lambda.flush"):
            return bool(force_flush(int(timeout_ms)))
        return False
    return _worker.flush(force_flush, timeout_ms)


def _honours_deadlines(provider: Any) -> bool:
    """True when every processor of this SDK provider is known to return within its deadline.

    Then the flush runs on the caller's thread (no hand-off to pay for); any other
    processor — a user's, the SDK's BatchSpanProcessor, which exports on the
    caller's thread whatever the timeout — goes through the worker.
    """
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from otel_serverless.export._batch import DeadlineBatchSpanProcessor
    from otel_serverless.processors import ScrubbingProcessor

    if type(provider) is not TracerProvider:
        return False
    # The SDK keeps its processors here; if that ever changes, we fall back to the worker.
    multi = getattr(provider, "_active_span_processor", None)
    pending = list(getattr(multi, "_span_processors", None) or [None])
    while pending:
        processor = pending.pop()
        if isinstance(processor, ScrubbingProcessor):
            if processor.then is not None:
                pending.append(processor.then)
        elif (
            type(processor) not in (SimpleSpanProcessor, DeadlineBatchSpanProcessor)
            and type(processor).force_flush is not SpanProcessor.force_flush  # the SDK's own does nothing
        ):
            return False
    return True


class _FlushWorker:
    """One long-lived thread runs foreign flushes; callers wait for it only until their deadline.

    A flush that overruns keeps the worker busy; later flushes queue behind it and
    report False at their own deadlines, never blocking longer.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: list[tuple[Callable[[int], Any], int, threading.Event, list[bool]]] = []
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def flush(self, force_flush: Callable[[int], Any], timeout_ms: float) -> bool:
        done = threading.Event()
        outcome: list[bool] = []
        with self._lock:
            self._jobs.append((force_flush, int(timeout_ms), done, outcome))
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="otel-serverless-flush", daemon=True)
                self._thread.start()
            self._wake.notify()
        done.wait(timeout_ms / 1000)
        return bool(outcome and outcome[0])

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._jobs:
                    self._wake.wait()
                force_flush, timeout_ms, done, outcome = self._jobs.pop(0)
            with guard("lambda.flush"):
                outcome.append(bool(force_flush(timeout_ms)))
            done.set()


_worker = _FlushWorker()
