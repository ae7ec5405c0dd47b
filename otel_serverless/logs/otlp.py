"""``OTEL_LOGS_EXPORTER=otlp``: log records exported over OTLP, on the trace, within the flush deadline.

:func:`install` (run by ``configure()`` when the variable names ``otlp``) sets up the
SDK's logs pipeline on the same resource as the traces: a batch processor and the
OTLP exporter for ``OTEL_EXPORTER_OTLP_LOGS_PROTOCOL`` / ``OTEL_EXPORTER_OTLP_PROTOCOL``
(endpoint, headers, certificates from the standard variables), and a handler on the
root logger that emits each record with its level, logger name, message (scrubbed like
every attribute), source location, exception, and the active span's trace and span ids.
The SDK's and otel-serverless's own records are not exported (an export failure that
logs would feed itself).

The SDK's ``force_flush`` exports on the caller's thread for as long as the exporter
takes; :class:`DeadlineFlush` runs it on its own thread instead, so the flush that
``otel_serverless.flush()`` and the Lambda wrapper make (one deadline for traces and
logs) returns by the deadline, and what was not sent by then is still sent after.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from typing import TYPE_CHECKING, Any, Final

from otel_serverless import _settings
from otel_serverless._guard import preview, report, warn_once

if TYPE_CHECKING:
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk.resources import Resource

#: Loggers whose records are not exported: the SDK's and ours.
_OWN: Final = ("opentelemetry", "otel_serverless")


class DeadlineFlush:
    """Flush a log record processor on a thread of its own; the caller waits at most its deadline."""

    def __init__(self, processor: Any) -> None:
        self._processor = processor
        self._condition = threading.Condition()
        self._asked = 0
        self._done = 0
        self._ok = True
        self._thread: threading.Thread | None = None

    def force_flush(self, timeout_millis: float = 30_000) -> bool:
        with self._condition:
            self._asked += 1
            ticket = self._asked
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="otel-serverless-logs-flush", daemon=True)
                self._thread.start()
            self._condition.notify_all()
            finished = self._condition.wait_for(lambda: self._done >= ticket, max(timeout_millis, 0) / 1000)
            return finished and self._ok

    def _run(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._asked > self._done)
                ticket = self._asked
            ok = False
            try:
                ok = bool(self._processor.force_flush())
            except Exception as error:
                report("logs.flush", error)
            with self._condition:
                self._done, self._ok = ticket, ok
                self._condition.notify_all()


class _Handler(logging.Handler):
    """A stdlib record → an OTLP log record, in the context that is current when it is logged."""

    def __init__(self, provider: LoggerProvider) -> None:
        super().__init__()
        self._provider = provider
        self._loggers: dict[str, Any] = {}
        self.addFilter(lambda record: not record.name.startswith(_OWN))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from opentelemetry._logs import SeverityNumber

            from otel_serverless._scrub import clean_text

            logger = self._loggers.get(record.name)
            if logger is None:
                logger = self._loggers[record.name] = self._provider.get_logger(record.name)
            attributes: dict[str, Any] = {
                "code.file.path": record.pathname,
                "code.function.name": record.funcName,
                "code.line.number": record.lineno,
            }
            exception = record.exc_info[1] if record.exc_info else None
            if isinstance(exception, BaseException):
                # Scrubbed here: the SDK adds these from the exception only where they are missing.
                attributes["exception.message"] = clean_text(str(exception))
                attributes["exception.stacktrace"] = clean_text(
                    "".join(traceback.format_exception(type(exception), exception, exception.__traceback__))
                )
            logger.emit(
                timestamp=int(record.created * 1e9),
                observed_timestamp=time.time_ns(),
                severity_number=_severity(record.levelno, SeverityNumber),
                severity_text=record.levelname,
                body=clean_text(record.getMessage()),
                attributes=attributes,
                exception=exception if isinstance(exception, BaseException) else None,
            )
        except Exception as error:  # a log line must never fail the caller
            report("logs.otlp", error)


def _severity(level: int, numbers: Any) -> Any:
    # Python's levels onto OTLP's severity ranges (the logs data model's mapping).
    for threshold, name in ((50, "FATAL"), (40, "ERROR"), (30, "WARN"), (20, "INFO"), (10, "DEBUG")):
        if level >= threshold:
            return getattr(numbers, name)
    return numbers.TRACE


def _exporter() -> Any:
    protocol = _settings.read_str("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "") or _settings.read_str(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
    )
    if protocol.strip().lower() == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcExporter
        except ImportError as error:
            warn_once(
                "logs:grpc",
                f"otel-serverless: logs over OTLP/gRPC need otel-serverless[grpc] ({preview(error.name)} is "
                "missing); exporting logs over http/protobuf instead",
            )
        else:
            return GrpcExporter()
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

    return OTLPLogExporter()


def install(resource: Resource) -> tuple[LoggerProvider, DeadlineFlush] | None:
    """The logs pipeline and its bounded flush, with the root logger's handler attached; None if unavailable."""
    try:
        from opentelemetry._logs import set_logger_provider
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

        exporter = _exporter()
    except ImportError as error:
        warn_once(
            "logs:exporter",
            f"otel-serverless: OTEL_LOGS_EXPORTER=otlp, but the OTLP log exporter is not installed "
            f"({preview(error.name)} is missing): install opentelemetry-exporter-otlp-proto-http (or build the "
            "layer with --with-sdk-exporter); logs are not exported (they are still events on the active span)",
        )
        return None
    provider = LoggerProvider(resource=resource)
    processor = BatchLogRecordProcessor(exporter)
    provider.add_log_record_processor(processor)
    set_logger_provider(provider)
    logging.getLogger().addHandler(_Handler(provider))
    return provider, DeadlineFlush(processor)
