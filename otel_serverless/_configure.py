"""``configure()``: the whole pipeline from the standard OpenTelemetry configuration.

The one place that wires the layers together, above all of them: the export pipeline
(:mod:`otel_serverless.export`), the serverless processors in front of each exporting
processor (:mod:`otel_serverless.processors`), the OTLP logs pipeline
(:mod:`otel_serverless.logs`) and the instrumentations (:func:`otel_serverless.instrument`).
None of those imports this module or each other upwards.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from opentelemetry import trace
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter

from otel_serverless._guard import guard
from otel_serverless.export import _pipeline
from otel_serverless.export._exporters import exporters_from_env
from otel_serverless.export._pipeline import Telemetry

__all__ = ["configure"]

#: One configure() at a time: a second caller waits and gets the first one's pipeline.
_lock = threading.Lock()


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
    with _lock:
        existing = _pipeline.current()
        if existing is not None:
            return existing
        if _pipeline.disabled():
            return None
        telemetry: Telemetry | None = None
        with guard("configure"):
            _pipeline.configure_logging()
            telemetry = _pipeline.install(_build(service_name, exporters, span_processors, flush_timeout_millis))
            if set_global:
                trace.set_tracer_provider(telemetry.provider)
    if telemetry is not None and instrument:
        from otel_serverless import instrument as instrument_calls

        instrument_calls()
    return telemetry


def _build(
    service_name: str | None,
    exporters: Sequence[SpanExporter] | None,
    span_processors: Iterable[SpanProcessor],
    flush_timeout_millis: int | None,
) -> Telemetry:
    from otel_serverless import processors as serverless

    telemetry = Telemetry(_pipeline.provider(service_name))
    # Serverless processors (OTEL_SERVERLESS_PROCESSORS): the invocation facts on the provider,
    # the scrubbing stage in front of each exporting processor.
    serverless.install(telemetry.provider)
    for processor in span_processors:
        # A caller's processor may export too: it sees spans scrubbed as well.
        telemetry.provider.add_span_processor(serverless.export_chain(processor))
        telemetry.others.append(processor)
    for exporter in exporters_from_env() if exporters is None else exporters:
        exporting = _pipeline.batch_processor(exporter, flush_timeout_millis)
        telemetry.provider.add_span_processor(serverless.export_chain(exporting))
        telemetry.exporting.append(exporting)
    from otel_serverless.logs import otlp_wanted

    if otlp_wanted():
        from otel_serverless.logs import otlp as otlp_logs

        installed = otlp_logs.install(telemetry.provider.resource)
        if installed is not None:
            telemetry.logger_provider, telemetry.logs = installed
    return telemetry
