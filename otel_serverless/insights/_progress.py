"""A progress bar on stderr while a large source is read."""

from __future__ import annotations

import time
from typing import Final, TextIO

#: Sources smaller than this are read without a bar (it would only flicker).
LARGE_BYTES: Final = 4 * 1024 * 1024


class Progress:
    """``[#####.....] 45%  12.0/26.5 MB  61,000 spans`` — redrawn in place on a terminal,
    a line at each quarter otherwise (logs, CI)."""

    def __init__(
        self, stream: TextIO | None, total: int, label: str, *, always: bool = False, unit: str = "bytes"
    ) -> None:
        self.stream = stream if stream is not None and (always or total >= LARGE_BYTES) else None
        self.unit = unit
        self.total = max(1, total)
        self.label = label
        self.tty = bool(self.stream is not None and self.stream.isatty())
        self._last_draw = 0.0
        self._quarter = 0

    def update(self, done: int, spans: int) -> None:
        if self.stream is None:
            return
        share = min(1.0, done / self.total)
        if self.tty:
            now = time.monotonic()
            if now - self._last_draw < 0.1 and share < 1.0:
                return
            self._last_draw = now
            self.stream.write("\r\033[K" + self._line(share, done, spans))
            self.stream.flush()
        elif int(share * 4) > self._quarter:
            self._quarter = int(share * 4)
            self.stream.write(self._line(share, done, spans) + "\n")
            self.stream.flush()

    def done(self, spans: int) -> None:
        if self.stream is None:
            return
        if self.tty:
            self.stream.write("\r\033[K" + self._line(1.0, self.total, spans) + "\n")
        elif self._quarter < 4:
            self.stream.write(self._line(1.0, self.total, spans) + "\n")
        self.stream.flush()

    def _line(self, share: float, done: int, spans: int) -> str:
        width = 24
        filled = int(width * share)
        amount = (
            f"{done / 1e6:.1f}/{self.total / 1e6:.1f} MB"
            if self.unit == "bytes"
            else f"{done}/{self.total} {self.unit}"
        )
        return f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {share:4.0%}  {amount}  {spans:,} spans"
