"""Background work the runtime is waiting for: each job a daemon thread, counted while it runs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger("otel_serverless.local")


class Dispatcher:
    """Start jobs in threads and know when none is running."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._running = 0
        #: Exceptions that escaped a job: a runtime bug, surfaced by ``run_until_idle``.
        self.failures: list[BaseException] = []

    def submit(self, job: Callable[[], None], name: str) -> None:
        with self._cond:
            self._running += 1

        def run() -> None:
            try:
                job()
            except BaseException as error:  # a runtime bug must not vanish with its thread
                logger.exception("local runtime job %s failed", name)
                with self._cond:
                    self.failures.append(error)
            finally:
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()

        threading.Thread(target=run, name=name, daemon=True).start()

    @property
    def running(self) -> int:
        with self._cond:
            return self._running

    def wait_idle(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._running == 0, timeout)
