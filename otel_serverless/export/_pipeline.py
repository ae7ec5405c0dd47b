"""Build the tracer provider and its export pipeline from the standard configuration."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
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
from otel_serverless.export._exporters import exporters_from_env
from otel_serverless.export._resource import build_resource

_LEVELS = ("debug", "info", "warning", "error")


@dataclass
class Telemetry:
    """What :func:`configure` set up: the provider and the processors that export."""

    provider: TracerProvider
    exporting: list[DeadlineBatchSpanProcessor] = field(default_factory=list)
    #: The caller's own processors given to :func:`configure`, flushed in the time left.
    others: list[SpanProcessor] = field(default_factory=list)
    #: ``OTEL_LOGS_EXPORTER=otlp``: the logs pipeline and its bounded flush (otel_serverless.logs.otlp).
    logger_provider: Any = None
    logs: Any = None

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


def configure(
    *,
    service_name: str | None = None,
    exporters: Sequence[SpanExporter] | None = None,
    span_processors: Iterable[SpanProcessor] = (),
    flush_timeout_millis: int | None = None,
    set_global: bool = True,
    instrument: bool = True,
) -> Telemetry | None:
    """Set up tracing from the standard OpenTelemetry configuration, once per process.

    Arguments override their environment variables; everything else comes from
    ``OTEL_*`` variables. A second call returns the pipeline of the first.
    Returns None when tracing is disabled. Never raises.
    """
    global _current
    with _lock:
        if _current is not None:
            return _current
        if disabled():
            return None
        telemetry: Telemetry | None = None
        with guard("configure"):
            _configure_logging()
            telemetry = _build(service_name, exporters, span_processors, flush_timeout_millis)
            if set_global:
                trace.set_tracer_provider(telemetry.provider)
            _current = telemetry
    if telemetry is not None and instrument:
        from otel_serverless import instrument as instrument_aws

        instrument_aws()
    return telemetry


def _build(
    service_name: str | None,
    exporters: Sequence[SpanExporter] | None,
    span_processors: Iterable[SpanProcessor],
    flush_timeout_millis: int | None,
) -> Telemetry:
    # The sampler, span limits and id generator come from OTEL_* variables via the SDK itself.
    provider = TracerProvider(resource=build_resource(service_name))
    telemetry = Telemetry(provider)
    # Serverless processors (OTEL_SERVERLESS_PROCESSORS): start-time ones on the provider,
    # export-time ones (memory, cost, scrubbing) as stages in front of each exporting processor.
    from otel_serverless import processors as serverless

    chains: list[SpanProcessor] = []
    for processor in span_processors:
        # A caller's processor may export too: it sees spans after the same stages (scrubbing …).
        chains.append(serverless.export_chain(processor))
        telemetry.others.append(processor)
    flush_timeout = _settings.read_int(
        env.OTEL_SERVERLESS_FLUSH_TIMEOUT_MS, 2000, minimum=1, maximum=60000, explicit=flush_timeout_millis
    )
    for exporter in exporters_from_env() if exporters is None else exporters:
        processor = DeadlineBatchSpanProcessor(
            exporter,
            max_queue_size=_settings.read_int(OTEL_BSP_MAX_QUEUE_SIZE, 2048, minimum=1),
            max_export_batch_size=_settings.read_int(OTEL_BSP_MAX_EXPORT_BATCH_SIZE, 512, minimum=1),
            schedule_delay_millis=_settings.read_int(OTEL_BSP_SCHEDULE_DELAY, 5000, minimum=0),
            flush_timeout_millis=flush_timeout,
        )
        chains.append(serverless.export_chain(processor))
        telemetry.exporting.append(processor)
    # The start-time stages go in front of the first chain (one processor fewer per span).
    serverless.install(provider, chains[0] if chains else None)
    for chain in chains[1:]:
        provider.add_span_processor(chain)
    from otel_serverless.logs import otlp as otlp_logs

    if otlp_logs.wanted():
        installed = otlp_logs.install(provider.resource)
        if installed is not None:
            telemetry.logger_provider, telemetry.logs = installed
    return telemetry


def _configure_logging() -> None:
    level = _settings.read_choice(env.OTEL_SERVERLESS_LOG_LEVEL, _LEVELS, "warning")
    logging.getLogger("otel_serverless").setLevel(level.upper())


def reset_for_tests() -> None:
    """Forget the configured pipeline (tests only; the OTel global provider is theirs to reset)."""
    global _current
    with _lock:
        if _current is not None:
            _current.shutdown()
        _current = None
