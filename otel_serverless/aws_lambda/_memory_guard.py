"""The memory guard: the invocation span ended and flushed before an out-of-memory kill.

Lambda kills the whole sandbox (SIGKILL, no warning) when the function goes over its
memory: nothing that was not exported survives, and the invocation that needed looking
at leaves no span. While an invocation runs, the watchdog thread (no signal, no other
thread) samples the process's resident set every :data:`INTERVAL_S`; once it crosses
``OTEL_SERVERLESS_MEMORY_GUARD_RATIO`` of the configured memory, the wrapper ends the
invocation span and its open children (``error.type`` ``out_of_memory``) and flushes,
and the in-flight marker notes it, so that if the kill follows, the next environment's
first invocation reports ``out_of_memory``. The handler goes on: if it survives, its
result is still handed back unchanged (its span is already ended).

Only in a Lambda sandbox (``AWS_LAMBDA_RUNTIME_API`` set, as the runtime and the Runtime
Interface Emulator do): elsewhere the process's memory is not the function's. Sampling sees
what it sees: an allocation that jumps past the limit between two samples
is not caught (the next invocation then reports a ``crash``).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Final

from otel_serverless import _settings
from otel_serverless import environment_variables as env
from otel_serverless._memory import resident_mb
from otel_serverless.aws_lambda._watchdog import watchdog

#: How often the resident set is sampled while an invocation runs, in seconds.
INTERVAL_S: Final = 0.05
DEFAULT_RATIO: Final = 0.95


#: Set by the Lambda runtime (and the Runtime Interface Emulator) in the function's sandbox.
SANDBOX_VARIABLE: Final = "AWS_LAMBDA_RUNTIME_API"


def ratio() -> float:
    """The share of the configured memory at which the guard fires (0: off).

    Off outside a Lambda sandbox: there (a test, the local runtime hosting several
    functions in one process) the process's memory is not the function's.
    """
    return _settings.per_process(env.OTEL_SERVERLESS_MEMORY_GUARD_RATIO, _read_ratio)


def _read_ratio() -> float:
    found = _settings.read_float(env.OTEL_SERVERLESS_MEMORY_GUARD_RATIO, DEFAULT_RATIO, minimum=0, maximum=1)
    return found if os.environ.get(SANDBOX_VARIABLE) else 0.0


class Guard:
    """One invocation watched: :meth:`stop` when it ends."""

    __slots__ = ("limit_mb", "on_limit")

    def __init__(self, limit_mb: float, on_limit: Callable[[float], None]) -> None:
        self.limit_mb = limit_mb
        self.on_limit = on_limit

    def stop(self) -> None:
        _ticker.unwatch(self)


class _Ticker:
    """One sampling chain per process on the watchdog thread, re-armed from that thread.

    It runs from the first guarded invocation on, between invocations too: a Lambda
    sandbox is frozen between invocations, so an idle tick costs nothing there, and an
    invocation that starts does not wake the watchdog thread to begin sampling.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.guards: set[Guard] = set()
        self.running = False
        self.unavailable = False

    def watch(self, guard: Guard) -> bool:
        with self.lock:
            if self.unavailable:
                return False
            self.guards.add(guard)
            if self.running:
                return True
            self.running = True
        watchdog.arm(time.monotonic() + INTERVAL_S, self.tick)  # once per process
        return True

    def unwatch(self, guard: Guard) -> None:
        with self.lock:
            self.guards.discard(guard)

    def tick(self) -> None:
        with self.lock:
            watched = list(self.guards)
        if watched:
            resident = resident_mb()
            if resident is None:  # not measurable here: nothing to guard with, ever
                with self.lock:
                    self.unavailable, self.running = True, False
                    self.guards.clear()
                return
            for guard in watched:
                if resident >= guard.limit_mb:
                    self.unwatch(guard)
                    guard.on_limit(resident)
        watchdog.arm(time.monotonic() + INTERVAL_S, self.tick)


_ticker = _Ticker()


def arm(memory_mb: int | None, on_limit: Callable[[float], None]) -> Guard | None:
    """Start guarding an invocation of a function with *memory_mb*; None when off or unknown."""
    share = ratio()
    if not memory_mb or share <= 0:
        return None
    guard = Guard(memory_mb * share, on_limit)
    return guard if _ticker.watch(guard) else None
