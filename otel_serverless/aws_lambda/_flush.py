"""Flush before the freeze: within a deadline derived from the time left, never longer.

With the pipeline from ``configure()`` the flush has its own hard deadline. Any
other provider (a user's, the test suite's) is flushed on a helper thread that is
waited for only until the deadline: its ``force_flush`` may ignore its timeout.
"""

from __future__ import annotations

import threading
from typing import Any

from opentelemetry import trace

from otel_serverless._guard import guard

#: Part of the time left kept back after the flush (the runtime still has to answer).
RESERVE_SHARE = 0.05
MIN_RESERVE_MS = 5.0
MAX_RESERVE_MS = 100.0


def budget_ms(remaining_ms: float | None, cap_ms: float = 2000.0) -> float:
    """How long a flush may take with *remaining_ms* left (*cap_ms* if the deadline is unknown)."""
    if remaining_ms is None:
        return cap_ms
    reserve = min(MAX_RESERVE_MS, max(MIN_RESERVE_MS, remaining_ms * RESERVE_SHARE))
    return max(0.0, min(cap_ms, remaining_ms - reserve))


def flush(provider: Any, timeout_ms: float) -> bool:
    """Flush *provider* (None: the configured pipeline or the global provider); True if all sent."""
    if timeout_ms < 1:
        return False
    from otel_serverless.export._pipeline import current

    telemetry = current()
    if telemetry is not None and (provider is None or provider is telemetry.provider):
        return telemetry.flush(timeout_ms)
    target = provider if provider is not None else trace.get_tracer_provider()
    force_flush = getattr(target, "force_flush", None)
    if not callable(force_flush):
        return True
    outcome: list[bool] = []

    def run() -> None:
        with guard("lambda.flush"):
            outcome.append(bool(force_flush(int(timeout_ms))))

    worker = threading.Thread(target=run, name="otel-serverless-flush", daemon=True)
    worker.start()
    worker.join(timeout_ms / 1000)
    return bool(outcome and outcome[0])
