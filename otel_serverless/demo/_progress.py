"""A one-line progress bar for the demo's steps."""

from __future__ import annotations

from typing import TextIO


class Progress:
    """A one-line progress bar on a terminal; plain lines otherwise."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.done = 0
        self.stream = stream
        self.tty = stream.isatty()

    def step(self, label: str) -> None:
        width = 24
        filled = width * self.done // max(1, self.total)
        line = f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {label}"
        if self.tty:
            self.stream.write("\r\033[K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def advance(self, label: str) -> None:
        self.done += 1
        self.step(label)
        if self.tty and self.done == self.total:
            self.stream.write("\n")
