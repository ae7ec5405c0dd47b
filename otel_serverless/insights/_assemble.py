"""Spans → whole traces, held in a bounded window by time.

Spans arrive in export order: a parent usually ends, and is exported, after its
children, and the hops of one asynchronous flow are exported by several processes.
A trace is handed on once the stream has moved :attr:`Assembler.grace_ns` past its
last span's end (no more of it is expected), or, when more than
:attr:`Assembler.max_spans` spans are held, oldest first: memory stays bounded
whatever the source's size.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

from otel_serverless.insights._model import Span

GRACE_NS: Final = 300 * 1_000_000_000
MAX_SPANS: Final = 50_000
_SWEEP_EVERY: Final = 2_000


@contextmanager
def collector_paused() -> Iterator[None]:
    """Reading makes millions of small acyclic objects: the cyclic collector would walk the held
    traces again and again for nothing (about an eighth of the time); reference counting frees them."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


class _Pending:
    __slots__ = ("last_end", "spans")

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.last_end = 0


class Assembler:
    def __init__(
        self, on_trace: Callable[[list[Span]], None], *, grace_ns: int = GRACE_NS, max_spans: int = MAX_SPANS
    ) -> None:
        self.on_trace = on_trace
        self.grace_ns = grace_ns
        self.max_spans = max_spans
        self._pending: dict[str, _Pending] = {}
        self._held = 0
        self._watermark = 0
        self._since_sweep = 0
        self.peak_held = 0

    def add(self, span: Span) -> None:
        pending = self._pending.get(span.trace_id)
        if pending is None:
            pending = self._pending[span.trace_id] = _Pending()
        pending.spans.append(span)
        end = span.end_ns
        if end > pending.last_end:
            pending.last_end = end
            self._watermark = max(self._watermark, end)
        self._held += 1
        self._since_sweep += 1
        if self._since_sweep >= _SWEEP_EVERY or self._held > self.max_spans:
            self.peak_held = max(self.peak_held, self._held)
            self._sweep()

    def add_all(self, spans: list[Span]) -> None:
        """The spans of one export request (the same as :meth:`add` for each, in one loop)."""
        pending_of = self._pending
        watermark = self._watermark
        for span in spans:
            pending = pending_of.get(span.trace_id)
            if pending is None:
                pending = pending_of[span.trace_id] = _Pending()
            pending.spans.append(span)
            end = span.end_ns
            if end > pending.last_end:
                pending.last_end = end
                if end > watermark:  # noqa: PLR1730  # the hot path: no call
                    watermark = end
        self._watermark = watermark
        self._held += len(spans)
        self._since_sweep += len(spans)
        if self._since_sweep >= _SWEEP_EVERY or self._held > self.max_spans:
            self.peak_held = max(self.peak_held, self._held)
            self._sweep()

    def add_trace(self, spans: list[Span]) -> None:
        """A trace the source knows to be whole (Jaeger answers whole traces)."""
        if spans:
            self.on_trace(spans)

    def close(self) -> None:
        self.peak_held = max(self.peak_held, self._held)
        for trace_id in list(self._pending):
            self._emit(trace_id)

    def _sweep(self) -> None:
        self._since_sweep = 0
        horizon = self._watermark - self.grace_ns
        for trace_id in [key for key, pending in self._pending.items() if pending.last_end < horizon]:
            self._emit(trace_id)
        if self._held > self.max_spans:
            # Over the bound: hand on the traces that ended longest ago until half the room is free.
            for trace_id in sorted(self._pending, key=lambda key: self._pending[key].last_end):
                if self._held <= self.max_spans // 2:
                    break
                self._emit(trace_id)

    def _emit(self, trace_id: str) -> None:
        pending = self._pending.pop(trace_id)
        self._held -= len(pending.spans)
        self.on_trace(pending.spans)
