"""The timeout watchdog: one daemon thread, never a signal.

Lambda kills the process at the deadline without warning, so whatever was not
exported by then is lost — precisely the invocations one most needs to see. The
watchdog wakes at *deadline − margin* and runs the invocation's timeout callback
(mark the spans timed out, end them, flush). It uses no signal: SIGALRM belongs to
the user's code (and only works on the main thread). The margin adapts to the
function's timeout: 10% of it, at least 100 ms (time to flush) and at most 2 s.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable
from typing import Final

from otel_serverless import _settings
from otel_serverless import environment_variables as env
from otel_serverless._guard import guard

MIN_MARGIN_MS: Final = 100.0
MAX_MARGIN_MS: Final = 2000.0
MARGIN_SHARE: Final = 0.1


def margin_ms(timeout_ms: float) -> float:
    """How long before the deadline the watchdog fires, for a function with this timeout."""
    explicit = _settings.per_process(
        env.OTEL_SERVERLESS_TIMEOUT_MARGIN_MS,
        lambda: _settings.read_int(env.OTEL_SERVERLESS_TIMEOUT_MARGIN_MS, 0, minimum=10, maximum=60000),
    )
    if explicit:
        return float(explicit)
    return min(MAX_MARGIN_MS, max(MIN_MARGIN_MS, timeout_ms * MARGIN_SHARE))


class Watchdog:
    """Runs a callback at a monotonic deadline unless disarmed first."""

    def __init__(self) -> None:
        # arm/disarm run in every invocation: they take the plain lock (a C-level context
        # manager); only the watchdog thread waits on the condition built on it.
        self._lock = threading.Lock()
        self._condition = threading.Condition(self._lock)
        self._armed: dict[int, tuple[float, Callable[[], None]]] = {}
        self._tokens = itertools.count(1)
        self._thread: threading.Thread | None = None
        #: The deadline the thread sleeps until (inf: nothing armed), to skip needless wake-ups.
        self._sleeping_until = float("inf")

    def arm(self, deadline: float, callback: Callable[[], None]) -> int:
        """Call *callback* on the watchdog thread at ``time.monotonic() >= deadline``."""
        with self._lock:
            token = next(self._tokens)
            self._armed[token] = (deadline, callback)
            if self._thread is None:
                self._start_thread()
            # A warm invocation arms a later deadline than the one the thread sleeps
            # until: it will see this one when it wakes, no context switch needed now.
            if deadline < self._sleeping_until:
                self._condition.notify()
        return token

    def disarm(self, token: int) -> None:
        with self._lock:
            self._armed.pop(token, None)

    def forget_thread(self) -> None:
        """In a forked child: the parent's thread is not there (and the lock may be held)."""
        self._lock = threading.Lock()
        self._condition = threading.Condition(self._lock)
        self._thread = None

    def _start_thread(self) -> None:
        # Called with the lock held. The thread clears _thread if it ever stops, and a fork
        # clears it too (forget_thread): no is_alive() or getpid() call per invocation.
        self._sleeping_until = float("-inf")  # not sleeping yet: the first arm must notify
        self._thread = threading.Thread(target=self._run, name="otel-serverless-watchdog", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            with self._lock:
                if self._thread is threading.current_thread():
                    self._thread = None

    def _loop(self) -> None:
        while True:
            with self._condition:
                while not self._armed:
                    self._sleeping_until = float("inf")
                    self._condition.wait()
                token, (deadline, callback) = min(self._armed.items(), key=lambda item: item[1][0])
                left = deadline - time.monotonic()
                if left > 0:
                    self._sleeping_until = deadline
                    self._condition.wait(left)
                    continue
                self._sleeping_until = float("-inf")
                del self._armed[token]
            with guard("watchdog"):
                callback()


watchdog: Final = Watchdog()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=watchdog.forget_thread)
