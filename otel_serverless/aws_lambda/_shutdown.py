"""The runtime's shutdown: flush what is still queued before the sandbox goes away.

Lambda sends the runtime ``SIGTERM`` when it shuts an execution environment down
(when an extension is registered) and ``SIGKILL`` once the shutdown budget is spent:
500 ms with internal extensions, 2,000 ms with external ones. Spans an earlier flush
could not send (a collector that was down) are then flushed within
``OTEL_SERVERLESS_SHUTDOWN_FLUSH_MS``, and the signal goes on to what was installed
before: the user's own handler, or the default (the process ends).
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType
from typing import Any, Final

from otel_serverless import _settings
from otel_serverless import environment_variables as env
from otel_serverless._guard import guard

DEFAULT_BUDGET_MS: Final = 400


def _budget_ms() -> int:
    return _settings.read_int(env.OTEL_SERVERLESS_SHUTDOWN_FLUSH_MS, DEFAULT_BUDGET_MS, minimum=0, maximum=10_000)


def _flush(budget_ms: int) -> None:
    from opentelemetry import trace

    from otel_serverless.aws_lambda import _flush as flushing

    with guard("shutdown.flush"):
        flushing.flush(trace.get_tracer_provider(), budget_ms)


def install() -> bool:
    """Flush on ``SIGTERM`` from now on (idempotent); False where signals cannot be set."""
    if threading.current_thread() is not threading.main_thread():
        return False  # only the main thread may install signal handlers
    previous: Any = signal.getsignal(signal.SIGTERM)
    if getattr(previous, "otel_serverless", False):
        return True
    budget_ms = _budget_ms()

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        _flush(budget_ms)
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)  # and so end as the default would have

    on_sigterm.otel_serverless = True  # type: ignore[attr-defined]  # marks our handler
    signal.signal(signal.SIGTERM, on_sigterm)
    return True
