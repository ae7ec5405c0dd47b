"""A progress bar on stderr for many functions: one redrawn line on a terminal, a few lines otherwise."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import TextIO


class Progress:
    def __init__(self, total: int, stream: TextIO, label: str) -> None:
        self.total = total
        self.done = 0
        self.counts: Counter[str] = Counter()
        self._stream = stream
        self._label = label
        self._tty = stream.isatty()
        self._started = time.monotonic()
        self._next_line = 0  # next percentage printed when not on a terminal
        self._lock = threading.Lock()

    def advance(self, status: str) -> None:
        with self._lock:
            self.done += 1
            self.counts[status] += 1
            percent = 100 * self.done // max(1, self.total)
            if self._tty:
                self._draw("\r\033[K", "\n" if self.done == self.total else "")
            elif percent >= self._next_line or self.done == self.total:
                # Logs get a line every 10%, not one per function.
                self._next_line = percent - percent % 10 + 10
                self._draw("", "\n")

    def _draw(self, prefix: str, suffix: str) -> None:
        width = 30
        filled = width * self.done // max(1, self.total)
        counts = ", ".join(f"{count} {status}" for status, count in sorted(self.counts.items()))
        elapsed = time.monotonic() - self._started
        self._stream.write(
            f"{prefix}{self._label} [{'#' * filled}{'.' * (width - filled)}] "
            f"{self.done}/{self.total} {elapsed:.0f}s  {counts}{suffix}"
        )
        self._stream.flush()
