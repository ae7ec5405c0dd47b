"""The export pipeline a process has: its provider, the processors that export, and its flush.

Only the export side lives here. Which processors stand in front of the exporting ones
(the serverless chain), the logs pipeline and the instrumentations are wired by
:func:`otel_serverless._configure.configure`, which builds a :class:`Telemetry` with the
pieces here and hands it to :func:`install`: this package imports none of them.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from opentelemetry.sdk.environment_variables import (
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
    OTEL_BSP_MAX_QUEUE_SIZE,
    OTEL_BSP_SCHEDULE_DELAY,
)
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter

from otel_serverless import _settings
from otel_serverless import environment_variables as env
from otel_serverless._guard import guard, report
from otel_serverless.export._batch import DeadlineBatchSpanProcessor
from otel_serverless.export._resource import build_resource

_LEVELS = ("debug", "info", "warning", "error")


class Telemetry:
    """What :func:`configure` set up: the provider and the processors that export.

    A plain class rather than a dataclass: generating a dataclass's methods at import costs
    a cold start about half a millisecond, and nothing compares or prints a pipeline.
    """

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self.exporting: list[DeadlineBatchSpanProcessor] = []
        #: The caller's own processors given to :func:`configure`, flushed in the time left.
        self.others: list[SpanProcessor] = []
        #: ``OTEL_LOGS_EXPORTER=otlp``: the logs pipeline and its bounded flush (otel_serverless.logs.otlp).
        self.logger_provider: Any = None
        self.logs: Any = None

    def flush(self, timeout_millis: float | None = None) -> bool:
        """Flush every processor within one shared deadline; never raises.

        *timeout_millis* is capped by ``OTEL_SERVERLESS_FLUSH_TIMEOUT_MS``. Returns True
        when everything ended so far was handed over in time.
        """
        budget = self.flush_timeout_millis if timeout_millis is None else min(timeout_millis, self.flush_timeout_millis)
        deadline = time.monotonic() + budget / 1000
        ok = True
        processors = self.exporting + self.others if self.others else self.exporting
        for processor in [*processors, self.logs] if self.logs is not None else processors:
            left = int((deadline - time.monotonic()) * 1000)
            if left <= 0:
                return False
            flushed = False
            try:  # rather than guard(): this runs in every warm invocation
                flushed = processor.force_flush(left)
            except Exception as error:
                report("export.flush", error)
            ok = ok and flushed
        return ok

    @property
    def flush_timeout_millis(self) -> float:
        if not self.exporting:
            return 2000
        longest = 0.0
        for processor in self.exporting:  # a loop, not max() over a generator: runs every flush
            longest = max(longest, processor.flush_timeout_millis)
        return longest

    def shutdown(self) -> None:
        with guard("export.shutdown"):
            self.provider.shutdown()
        if self.logger_provider is not None:
            with guard("export.shutdown.logs"):
                self.logger_provider.shutdown()


_lock = threading.Lock()
_current: Telemetry | None = None


def current() -> Telemetry | None:
    """The pipeline :func:`configure` set up in this process, if any."""
    return _current


def disabled() -> bool:
    return _settings.read_bool(env.OTEL_SERVERLESS_DISABLED, False) or _settings.read_bool("OTEL_SDK_DISABLED", False)


def install(telemetry: Telemetry) -> Telemetry:
    """Make *telemetry* the process's pipeline (the first one wins); the one in place."""
    global _current
    with _lock:
        if _current is None:
            _current = telemetry
        return _current


def batch_processor(exporter: SpanExporter, flush_timeout_millis: int | None) -> DeadlineBatchSpanProcessor:
    """Our deadline-bounded batch processor for *exporter*, sized by the standard ``OTEL_BSP_*``."""
    return DeadlineBatchSpanProcessor(
        exporter,
        max_queue_size=_settings.read_int(OTEL_BSP_MAX_QUEUE_SIZE, 2048, minimum=1),
        max_export_batch_size=_settings.read_int(OTEL_BSP_MAX_EXPORT_BATCH_SIZE, 512, minimum=1),
        schedule_delay_millis=_settings.read_int(OTEL_BSP_SCHEDULE_DELAY, 5000, minimum=0),
        flush_timeout_millis=_settings.read_int(
            env.OTEL_SERVERLESS_FLUSH_TIMEOUT_MS, 2000, minimum=1, maximum=60000, explicit=flush_timeout_millis
        ),
    )


def provider(service_name: str | None) -> TracerProvider:
    """A tracer provider on our resource; the sampler, limits and ids come from ``OTEL_*`` via the SDK."""
    return TracerProvider(resource=build_resource(service_name))


def configure_logging() -> None:
    """Our own logger's level (``OTEL_SERVERLESS_LOG_LEVEL``), and no header value in the SDK's warnings."""
    level = _settings.read_choice(env.OTEL_SERVERLESS_LOG_LEVEL, _LEVELS, "warning")
    logging.getLogger("otel_serverless").setLevel(level.upper())
    from otel_serverless.export import _header_warnings

    _header_warnings.install()


def reset_for_tests() -> None:
    """Forget the configured pipeline (tests only; the OTel global provider is theirs to reset)."""
    global _current
    with _lock:
        if _current is not None:
            _current.shutdown()
        _current = None
