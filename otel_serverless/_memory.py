"""Memory of the running process: its resident set now, and its high-water mark per invocation.

Lambda's "Max Memory Used" and ``getrusage``'s ``ru_maxrss`` are the peak over the
process's life: once one heavy invocation reached 90% of the limit, every later light
one would report 90% too. Linux lets a process reset its own high-water mark
(``/proc/self/clear_refs``, value 5, since Linux 4.0); reset as an invocation starts,
``VmHWM`` in ``/proc/self/status`` is then that invocation's peak. So is ``getrusage``'s
``ru_maxrss`` of a live process (the kernel reads the same high-water mark), at a tenth of
the cost of formatting ``/proc/self/status``: it is used once checked, on the first
reset, to agree with ``VmHWM``.

Where that is not possible (not Linux, a sandbox that forbids the write), the process
peak is used, and an invocation counts as having reached it only if the peak grew
while it ran: a light invocation after a heavy one does not repeat the heavy one's peak.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
from typing import Final

_CLEAR_REFS: Final = "/proc/self/clear_refs"
_STATUS: Final = "/proc/self/status"
_STATM: Final = "/proc/self/statm"
_RESET_HIGH_WATER: Final = b"5"
_PAGE_MB: Final = (os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096) / (1024 * 1024)


def process_peak_mb() -> float:
    """The process's peak resident set over its whole life (``getrusage``)."""
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return usage / (1024 * 1024) if sys.platform == "darwin" else usage / 1024


class _Files:
    """The /proc files, opened once per process (None: not available here)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.opened = False
        self.pid = 0
        self.clear_refs: int | None = None
        self.status: int | None = None
        self.statm: int | None = None

    def ensure(self) -> None:
        if self.opened and self.pid == os.getpid():
            return
        with self.lock:
            if self.opened and self.pid == os.getpid():
                return
            self.clear_refs = _open(_CLEAR_REFS, os.O_WRONLY)
            self.status = _open(_STATUS, os.O_RDONLY)
            self.statm = _open(_STATM, os.O_RDONLY)
            self.pid = os.getpid()  # a forked child has its own /proc/self: opened again
            self.opened = True


def _open(path: str, flags: int) -> int | None:
    try:
        return os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None


_files = _Files()


def reset_high_water() -> bool:
    """Start a new high-water mark (at an invocation's start); False where that is not possible."""
    _files.ensure()
    fd = _files.clear_refs
    if fd is None:
        return False
    try:
        os.pwrite(fd, _RESET_HIGH_WATER, 0)
    except OSError:
        _files.clear_refs = None  # not allowed here: never tried again
        return False
    return True


def high_water_mb() -> float | None:
    """The peak resident set since the last :func:`reset_high_water` (``VmHWM``), or None."""
    _files.ensure()
    fd = _files.status
    if fd is None:
        return None
    try:
        status = os.pread(fd, 4096, 0)
        start = status.index(b"VmHWM:") + 6
        return int(status[start : status.index(b"kB", start)]) / 1024
    except (OSError, ValueError):
        return None


def resident_mb() -> float | None:
    """The resident set now (``/proc/self/statm``), or None where it cannot be read."""
    _files.ensure()
    fd = _files.statm
    if fd is None:
        return None
    try:
        return int(os.pread(fd, 128, 0).split()[1]) * _PAGE_MB
    except (OSError, ValueError, IndexError):
        return None


class Watermark:
    """One invocation's memory high-water mark: :meth:`start` as it starts, :meth:`peak_mb` at its end."""

    __slots__ = ("_baseline", "_exact")

    def __init__(self) -> None:
        self._exact = False
        self._baseline = 0.0

    def start(self) -> None:
        # One write that resets the mark, rather than reading the peak and the resident set
        # to learn whether a reset is needed: fewer system calls on every invocation.
        self._exact = reset_high_water()
        if not self._exact:
            self._baseline = process_peak_mb()

    def peak_mb(self) -> tuple[float, bool]:
        """The invocation's peak, and whether it reached it itself (False: a process peak
        that an earlier invocation set)."""
        if self._exact:
            found = process_peak_mb() if _rusage_follows_reset() else high_water_mb()
            if found is not None:
                return found, True
        peak = process_peak_mb()
        return peak, peak > self._baseline


_rusage_checked: list[bool] = []


def _rusage_follows_reset() -> bool:
    """Whether ``ru_maxrss`` is the high-water mark :func:`reset_high_water` resets (checked
    once per process, at the first invocation's end: the two must agree within a megabyte;
    they differ where ``ru_maxrss`` keeps an earlier peak, as after an ``exec``)."""
    if not _rusage_checked:
        exact = high_water_mb()
        _rusage_checked.append(exact is not None and abs(process_peak_mb() - exact) < 1.0)
    return _rusage_checked[0]
