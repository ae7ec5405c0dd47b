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
        self._condition = threading.Condition()
        self._armed: dict[int, tuple[float, Callable[[], None]]] = {}
        self._tokens = itertools.count(1)
        self._thread: threading.Thread | None = None
        #: The deadline the thread sleeps until (inf: nothing armed), to skip needless wake-ups.
        self._sleeping_until = float("inf")

    def arm(self, deadline: float, callback: Callable[[], None]) -> int:
        """Call *callback* on the watchdog thread at ``time.monotonic() >= deadline``."""
        with self._condition:
            token = next(self._tokens)
            self._armed[token] = (deadline, callback)
            self._ensure_thread()
            # A warm invocation arms a later deadline than the one the thread sleeps
            # until: it will see this one when it wakes, no context switch needed now.
            if deadline < self._sleeping_until:
                self._condition.notify()
        return token

    def disarm(self, token: int) -> None:
        with self._condition:
            self._armed.pop(token, None)

    def forget_thread(self) -> None:
        """In a forked child: the parent's thread is not there (and the lock may be held)."""
        self._condition = threading.Condition()
        self._thread = None

    def _ensure_thread(self) -> None:
        # A fork resets _thread (forget_thread), so no getpid() call per invocation here.
        thread = self._thread
        if thread is None or not thread.is_alive():
            self._sleeping_until = float("-inf")  # not sleeping yet: the first arm must notify
            self._thread = threading.Thread(target=self._run, name="otel-serverless-watchdog", daemon=True)
            self._thread.start()

    def _run(self) -> None:
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
